using Microsoft.AspNetCore.Http.Features;

namespace RaftKv.Server.Http;

/// <summary>
/// The key of a <c>/kv/{key}</c> request, read from the request target exactly as the client sent it (docs/api.md,
/// "Keys in the path"): everything after <c>/kv/</c> up to the query, percent-decoded to bytes — <c>%2F</c> is a
/// <c>/</c> of the key and <c>%FF</c> the byte 0xFF, so a client that encodes the whole key (JavaScript's
/// <c>encodeURIComponent</c>) and one that leaves its slashes as they are name the same key, and binary keys can be
/// named. The host's own path (what routing sees) is not used: it has <c>.</c> and <c>..</c> segments removed and
/// keeps <c>%2F</c> encoded, so <c>/kv/a/../b</c> would act on key <c>b</c>. A key with a <c>.</c> or <c>..</c>
/// segment, or a raw <c>\</c> (which browsers and .NET's Uri turn into <c>/</c>), is refused instead (400): clients and
/// proxies rewrite such paths before they arrive, so the key a request names cannot be known (etcd's API takes any key).
/// </summary>
/// <remarks>One home for every reader of the key: the handlers (<see cref="KvHttpApi"/>), the auth rules
/// (<see cref="Security.Auth.AuthRules"/>, which must judge the key the handler acts on) and the leader forwarder
/// (which sends the target on as it came). The result is computed once per request (<see cref="HttpContext.Items"/>).</remarks>
public static class KvPathKey
{
    private const string Prefix = "/kv/";
    private static readonly object ItemKey = new();

    /// <summary>The key of this <c>/kv/…</c> request (empty for <c>/kv/</c>), or the reason it names none.</summary>
    public static KvPathKeyResult Of(HttpContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        if (context.Items.TryGetValue(ItemKey, out var cached) && cached is KvPathKeyResult r)
        {
            return r;
        }

        var result = Parse(RawPath(context));
        context.Items[ItemKey] = result;
        return result;
    }

    /// <summary>The path of the request target as the client sent it (no query), e.g. <c>/kv/a%2Fb</c>; the host's
    /// decoded path when the server has no raw target (in-process test hosts).</summary>
    public static string RawPath(HttpContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var raw = context.Features.Get<IHttpRequestFeature>()?.RawTarget;
        if (string.IsNullOrEmpty(raw))
        {
            return (context.Request.PathBase + context.Request.Path).ToUriComponent();
        }

        var query = raw.IndexOf('?', StringComparison.Ordinal);
        var path = query >= 0 ? raw[..query] : raw;
        if (!path.StartsWith('/') && path.IndexOf("://", StringComparison.Ordinal) is var scheme and >= 0)
        {
            var slash = path.IndexOf('/', scheme + 3); // absolute form (http://host/kv/…): the path after the authority
            path = slash >= 0 ? path[slash..] : "/";
        }

        return path;
    }

    /// <summary>The key a raw <c>/kv/…</c> path names (see the type's summary).</summary>
    public static KvPathKeyResult Parse(string rawPath)
    {
        ArgumentNullException.ThrowIfNull(rawPath);
        if (!rawPath.StartsWith(Prefix, StringComparison.OrdinalIgnoreCase))
        {
            return new KvPathKeyResult([], rawPath.Equals("/kv", StringComparison.OrdinalIgnoreCase) ? null : "not a /kv/{key} path");
        }

        var encoded = rawPath.AsSpan(Prefix.Length);
        var key = new byte[encoded.Length]; // decoding only shortens
        var n = 0;
        var segmentStart = 0;
        for (var i = 0; i < encoded.Length; i++)
        {
            var c = encoded[i];
            if (c == '/')
            {
                if (IsDotSegment(key.AsSpan(segmentStart, n - segmentStart)))
                {
                    return DotSegment();
                }

                key[n++] = (byte)'/';
                segmentStart = n; // a literal '/' ends a segment for the rewriting clients do; an encoded one does not
                continue;
            }

            if (c == '%')
            {
                if (i + 2 >= encoded.Length || !IsHex(encoded[i + 1]) || !IsHex(encoded[i + 2]))
                {
                    return new KvPathKeyResult([], "the key in the path has a '%' that is not followed by two hex digits (percent-encode '%' as %25)");
                }

                key[n++] = (byte)((HexValue(encoded[i + 1]) << 4) | HexValue(encoded[i + 2]));
                i += 2;
                continue;
            }

            if (c == '\\')
            {
                // Browsers (the WHATWG URL rules) and .NET's Uri turn a raw '\' into '/' (and may then drop a '..' before
                // it), curl sends it as it is: which key such a path names depends on the client. A follower forwarding
                // through Uri turned PUT /kv/dir\..\victim into a write of key "victim" (acceptance probe).
                return new KvPathKeyResult([], "the key in the path has a raw '\\', which HTTP clients rewrite as '/'; percent-encode it as %5C");
            }

            if (c > 0x7F)
            {
                return new KvPathKeyResult([], "the key in the path must be percent-encoded UTF-8 or bytes (%E2%82%AC), not raw non-ASCII characters");
            }

            key[n++] = (byte)c;
        }

        if (IsDotSegment(key.AsSpan(segmentStart, n - segmentStart)))
        {
            return DotSegment();
        }

        return new KvPathKeyResult(key.AsSpan(0, n).ToArray(), null);
    }

    private static KvPathKeyResult DotSegment()
        => new([], "the key in the path has a '.' or '..' segment, which HTTP clients and proxies rewrite before it arrives; "
                   + "use etcd's API (or its JSON gateway, /v3/kv/put) for such keys");

    private static bool IsDotSegment(ReadOnlySpan<byte> segment) => segment is [(byte)'.'] or [(byte)'.', (byte)'.'];

    private static bool IsHex(char c) => char.IsAsciiHexDigit(c);

    private static int HexValue(char c) => c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10;
}
