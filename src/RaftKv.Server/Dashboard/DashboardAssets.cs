using System.Collections.Frozen;
using System.Reflection;
using System.Security.Cryptography;

namespace RaftKv.Server.Dashboard;

/// <summary>
/// The dashboard's static files, embedded in the server assembly (<c>Dashboard/wwwroot/**</c> as
/// EmbeddedResource with logical name <c>ui/&lt;relative path&gt;</c>, see RaftKv.Server.csproj): no build
/// step, nothing fetched at run time. Loaded once; each file is served with its content type, a strong
/// ETag (SHA-256 prefix) and <c>Cache-Control: no-cache</c> (revalidate, so an upgraded node never serves
/// a stale page), plus a Content-Security-Policy that allows only this origin (no inline script).
/// </summary>
public sealed class DashboardAssets
{
    public const string ContentSecurityPolicy = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'";

    private const string Prefix = "ui/";

    private static readonly FrozenDictionary<string, string> ContentTypes = new Dictionary<string, string>(StringComparer.Ordinal)
    {
        [".html"] = "text/html; charset=utf-8",
        [".js"] = "text/javascript; charset=utf-8",
        [".css"] = "text/css; charset=utf-8",
        [".svg"] = "image/svg+xml",
        [".json"] = "application/json",
        [".ico"] = "image/x-icon",
        [".png"] = "image/png",
    }.ToFrozenDictionary(StringComparer.Ordinal);

    private readonly FrozenDictionary<string, Asset> _assets;

    public DashboardAssets()
    {
        var assembly = typeof(DashboardAssets).Assembly;
        _assets = assembly.GetManifestResourceNames()
            .Where(n => n.StartsWith(Prefix, StringComparison.Ordinal))
            .ToFrozenDictionary(n => n[Prefix.Length..], n => Load(assembly, n), StringComparer.Ordinal);
    }

    public IReadOnlyCollection<string> Paths => _assets.Keys;

    /// <summary>Serves <paramref name="path"/> (relative to /ui/; empty = index.html); 404 when unknown.</summary>
    public IResult Serve(HttpContext context, string? path)
    {
        if (!_assets.TryGetValue(string.IsNullOrEmpty(path) ? "index.html" : path, out var asset))
        {
            return Results.NotFound();
        }

        var headers = context.Response.Headers;
        headers.CacheControl = "no-cache";
        headers.ETag = asset.ETag;
        headers.XContentTypeOptions = "nosniff";
        headers.ContentSecurityPolicy = ContentSecurityPolicy;
        headers["Referrer-Policy"] = "no-referrer";
        if (context.Request.Headers.IfNoneMatch.ToString() == asset.ETag)
        {
            return Results.StatusCode(StatusCodes.Status304NotModified);
        }

        return Results.Bytes(asset.Bytes, asset.ContentType);
    }

    private static Asset Load(Assembly assembly, string name)
    {
        using var stream = assembly.GetManifestResourceStream(name) ?? throw new InvalidOperationException("missing embedded resource " + name);
        using var buffer = new MemoryStream();
        stream.CopyTo(buffer);
        var bytes = buffer.ToArray();
        var type = ContentTypes.GetValueOrDefault(Path.GetExtension(name), "application/octet-stream");
        return new Asset(bytes, type, "\"" + Convert.ToHexStringLower(SHA256.HashData(bytes))[..16] + "\"");
    }

    private sealed record Asset(byte[] Bytes, string ContentType, string ETag);
}
