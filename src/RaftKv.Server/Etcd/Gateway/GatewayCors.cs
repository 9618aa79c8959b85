using Microsoft.Extensions.Primitives;

namespace RaftKv.Server.Etcd.Gateway;

/// <summary>
/// etcd's CORS on its JSON gateway (etcd 3.4 <c>embed/serve.go</c>, <c>corsHandler</c>; its <c>--cors</c>, here
/// <c>CORS</c>): with <c>*</c> (etcd's default) every answer carries <c>Access-Control-Allow-Origin: *</c> and
/// etcd's allowed methods and headers; with a list, an answer to a listed <c>Origin</c> carries that origin; and
/// an <c>OPTIONS</c> request (a browser's preflight) is answered 200 with no body, whatever its origin — so a
/// browser page can call <c>POST /v3/kv/range</c> with a JSON content type and an <c>Authorization</c> token, as
/// it can on etcd.
/// </summary>
public sealed class GatewayCors(IReadOnlyList<string> origins)
{
    private const string Methods = "POST, GET, OPTIONS, PUT, DELETE";
    private const string Headers = "accept, content-type, authorization";

    /// <summary>Adds the CORS headers when <paramref name="context"/>'s origin may call (before anything is written).</summary>
    public void Apply(HttpContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        string? allowed = null;
        if (origins is ["*"])
        {
            allowed = "*";
        }
        else if (context.Request.Headers.Origin is { Count: 1 } origin && origins.Contains(origin.ToString(), StringComparer.Ordinal))
        {
            allowed = origin.ToString();
        }

        if (allowed is null)
        {
            return;
        }

        var headers = context.Response.Headers;
        headers.AccessControlAllowMethods = Methods;
        headers.AccessControlAllowOrigin = allowed;
        headers.AccessControlAllowHeaders = Headers;
        if (allowed != "*")
        {
            headers.Vary = StringValues.Concat(headers.Vary, "Origin");
        }
    }

    /// <summary>A preflight: the CORS headers (if allowed) and 200 with an empty body, as etcd answers every OPTIONS.</summary>
    public Task PreflightAsync(HttpContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        Apply(context);
        context.Response.StatusCode = StatusCodes.Status200OK;
        context.Response.ContentLength = 0;
        return Task.CompletedTask;
    }
}
