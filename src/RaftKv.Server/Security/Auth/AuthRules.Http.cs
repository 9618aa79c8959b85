using System.Text;

namespace RaftKv.Server.Security.Auth;

public static partial class AuthRules
{
    /// <summary>The access an HTTP request needs: <c>/kv/{key}</c> (<paramref name="pathKey"/>, from the request target) reads (GET, HEAD) or writes (PUT, POST,
    /// DELETE) its key; <c>GET /kv?prefix=p</c> reads the prefix (no prefix = every key); <c>/health*</c>, <c>/version</c> (open in etcd too) and
    /// <c>POST /auth/authenticate</c> are open, <c>/metrics</c> too unless AUTH_METRICS=root; <c>/stats</c>,
    /// <c>/stats/load</c>, <c>/cluster</c>, <c>/cluster/overview</c> and <c>/auth/whoami</c> need a user; <c>GET /ui/*</c> (static files) is open and
    /// <c>GET /watch?prefix=p</c> reads the prefix; etcd's JSON gateway (<c>/v3/*</c>, <c>/v3beta/*</c>) is open here because each of
    /// its requests is a gRPC call checked by the gRPC pipeline (Etcd/Gateway/GatewayLoopback); every other route (admin, membership) needs root.</summary>
    public static AuthAccess ForHttp(string method, string path, Http.KvPathKeyResult? pathKey, IQueryCollection query, bool openMetrics)
    {
        if (path.StartsWith("/health", StringComparison.Ordinal) || path == "/version" || path == "/auth/authenticate" || (openMetrics && path == "/metrics")
            || Etcd.Gateway.GatewayRoutes.IsGatewayPath(path)
            || ((path == "/ui" || path.StartsWith("/ui/", StringComparison.Ordinal)) && HttpMethods.IsGet(method)))
        {
            return AuthAccess.Open; // the dashboard's static files hold no data: its data calls are checked like any other
        }

        if (path == "/watch" && HttpMethods.IsGet(method))
        {
            var prefix = Encoding.UTF8.GetBytes(query["prefix"].ToString()); // the dashboard's SSE watch reads its prefix
            var end = KeyAccess.PrefixEnd(prefix);
            return AuthAccess.On(KeyAccess.Read(prefix, end.Length == 0 ? All : end));
        }

        if ((path == "/kv" || path == "/kv/") && (HttpMethods.IsGet(method) || HttpMethods.IsHead(method)))
        {
            return AuthAccess.On(List(query));
        }

        if (path.StartsWith("/kv/", StringComparison.Ordinal))
        {
            if (pathKey is not { Error: null } named)
            {
                return AuthAccess.Authenticated; // names no key: the handler answers 400 and reads or writes nothing
            }

            var read = HttpMethods.IsGet(method) || HttpMethods.IsHead(method);
            return AuthAccess.On(new KeyAccess(named.Key, [], !read)); // the key the handler acts on (Http/KvPathKey)
        }

        if ((path == "/stats" || path == "/cluster" || path == "/stats/load" || path == "/cluster/overview" || path == "/auth/whoami") && HttpMethods.IsGet(method))
        {
            return AuthAccess.Authenticated;
        }

        return AuthAccess.Admin;
    }

    /// <summary>The range GET /kv reads (KvHttpApi.ListAsync's parameters: prefix, start, end, continuation).
    /// A parameter that does not parse reads everything (the handler refuses it anyway).</summary>
    private static KeyAccess List(IQueryCollection q)
    {
        var prefix = Encoding.UTF8.GetBytes(q["prefix"].ToString());
        byte[] start;
        try
        {
            start = q.TryGetValue("continuation", out var c) && c.ToString().Length > 0
                ? Convert.FromBase64String(c.ToString())
                : q.TryGetValue("start", out var s) ? Encoding.UTF8.GetBytes(s.ToString()) : prefix;
        }
        catch (FormatException)
        {
            start = [];
        }

        var end = q.TryGetValue("end", out var en) ? Encoding.UTF8.GetBytes(en.ToString()) : KeyAccess.PrefixEnd(prefix);
        return KeyAccess.Read(start, end.Length == 0 ? All : end);
    }
}
