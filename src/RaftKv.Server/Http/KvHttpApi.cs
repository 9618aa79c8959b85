using System.Globalization;
using System.Text;
using System.Text.Json;
using RaftKv.Replication.Api;
using RaftKv.Server.Pipeline;
using RaftKv.Storage;

namespace RaftKv.Server.Http;

/// <summary>The /kv routes (docs/api.md). Handlers are thin: validate → call the node; leader forwarding
/// and error mapping are pipeline stages (docs/architecture.md, "Server pipeline").</summary>
public static class KvHttpApi
{
    private static readonly UTF8Encoding StrictUtf8 = new(false, true);

    public static void Map(IEndpointRouteBuilder app)
    {
        // The key comes from the request target as sent (KvPathKey), checked before a write is forwarded.
        app.MapGet("/kv/{**key}", GetAsync).AddEndpointFilter(RequireKeyPath);
        app.MapMethods("/kv/{**key}", ["HEAD"], HeadAsync).AddEndpointFilter(RequireKeyPath);
        app.MapPut("/kv/{**key}", PutAsync).AddEndpointFilter(RequireKeyPath).ForwardToLeader();
        app.MapPost("/kv/{**key}", PutAsync).AddEndpointFilter(RequireKeyPath).ForwardToLeader();
        app.MapDelete("/kv/{**key}", DeleteAsync).AddEndpointFilter(RequireKeyPath).ForwardToLeader();
        app.MapGet("/kv", ListAsync);

        // Any other method on a key is 405, as on every route: without this the gRPC host's catch-all for unknown
        // services ({service}/{method}, any method) took a two-segment path such as /kv/k1 and answered 404.
        app.MapMethods("/kv/{**key}", ["PATCH", "OPTIONS", "TRACE"], (HttpContext ctx) =>
        {
            ctx.Response.Headers.Allow = "GET, HEAD, PUT, POST, DELETE";
            return ApiError.Result(405, "method_not_allowed", $"{ctx.Request.Method} is not allowed on {ctx.Request.Path}");
        });
    }

    /// <summary>A <c>/kv/{key}</c> path that names no key (a dot segment, a bad escape) is a 400, before anything runs.</summary>
    private static ValueTask<object?> RequireKeyPath(EndpointFilterInvocationContext invocation, EndpointFilterDelegate next)
        => KvPathKey.Of(invocation.HttpContext).Error is { } error
            ? ValueTask.FromResult<object?>(ApiError.Result(400, "invalid_argument", error))
            : next(invocation);

    private static async Task<IResult> GetAsync(HttpContext ctx, IKvNode node)
    {
        var key = KvPathKey.Of(ctx);
        if (key.Key.Length == 0)
        {
            return await ListAsync(ctx, node).ConfigureAwait(false);
        }

        var entry = await GetKvAsync(node, key.Key, Consistency(ctx), ctx.RequestAborted).ConfigureAwait(false);
        if (entry is not { } e)
        {
            return ApiError.Result(404, "not_found", $"key '{key.Display}' not found");
        }

        ctx.Response.Headers["X-RaftKv-Version"] = e.ModRevision.ToString(CultureInfo.InvariantCulture);
        ctx.Response.Headers["X-RaftKv-Tier"] = TierName(e.Tier);
        if (WantsRaw(ctx))
        {
            return Results.Bytes(e.Value.ToArray(), "application/octet-stream");
        }

        return Results.Json(ToBody(e), JsonBodies.Options);
    }

    private static async Task<IResult> HeadAsync(HttpContext ctx, IKvNode node)
    {
        var key = KvPathKey.Of(ctx).Key;
        if (key.Length == 0)
        {
            return Results.StatusCode(400);
        }

        var entry = await GetKvAsync(node, key, Consistency(ctx), ctx.RequestAborted).ConfigureAwait(false);
        if (entry is { } e)
        {
            ctx.Response.Headers["X-RaftKv-Version"] = e.ModRevision.ToString(CultureInfo.InvariantCulture);
            ctx.Response.ContentLength = e.Value.Length;
            return Results.Ok();
        }

        return Results.NotFound();
    }

    private static async Task<IResult> PutAsync(HttpContext ctx, IKvNode node)
    {
        var body = await ReadBodyAsync(ctx).ConfigureAwait(false);
        var key = KvPathKey.Of(ctx);
        if (key.Key.Length == 0)
        {
            return ApiError.Result(400, "invalid_argument", "key must not be empty");
        }

        var (value, ttlSeconds) = ParseValue(ctx, body);
        if (ctx.Request.Query.TryGetValue("ttl", out var ttlQuery))
        {
            ttlSeconds = ParseLong(ttlQuery.ToString(), "ttl");
        }

        var k = key.Key;
        var op = KvOp.Put(k, value, KvOp.TtlMsFromSeconds(ttlSeconds ?? 0));
        var compares = new List<KvCompare>();
        var pv = HttpArgs.Long(ctx.Request, "prev_version", "a version (0: the key must not exist)", 0);
        if (pv is not null)
        {
            compares.Add(new KvCompare(k, CompareTarget.Mod, CompareOp.Equal, pv.Value)); // version = mod revision
        }

        var requestId = ctx.Request.Headers["X-Request-Id"].FirstOrDefault();
        var result = await node.WriteAsync(new KvTxn(compares, [op], [KvOp.Get(k)], requestId), ctx.RequestAborted).ConfigureAwait(false);
        if (!result.Succeeded)
        {
            var current = result.Results.FirstOrDefault()?.Range is { Kvs.Count: > 0 } r ? r.Kvs[0].ModRevision : 0;
            return ApiError.Result(409, "compare_failed", $"key '{key.Display}' is at version {current}, not {pv}");
        }

        var (shown, keyEncoding) = KeyText(k);
        return Results.Json(new JsonBodies.WriteBody(shown, result.Revision, true, null, result.Revision, keyEncoding), JsonBodies.Options);
    }

    private static async Task<IResult> DeleteAsync(HttpContext ctx, IKvNode node)
    {
        var prefix = ctx.Request.Query["prefix"].ToString() is "true" or "1";
        var all = ctx.Request.Query["all"].ToString() is "true" or "1";
        var k = KvPathKey.Of(ctx).Key;
        if (k.Length > 0 && all)
        {
            return ApiError.Result(400, "invalid_argument", "all=true deletes every key and takes no key: DELETE /kv?all=true");
        }

        if (k.Length == 0 && !prefix && !all)
        {
            return ApiError.Result(400, "invalid_argument", "key must not be empty");
        }

        var op = all ? KvOp.DeleteAll() : prefix ? KvOp.DeletePrefix(k) : KvOp.Delete(k);
        var result = await node.WriteAsync(KvTxn.Single(op, ctx.Request.Headers["X-Request-Id"].FirstOrDefault()), ctx.RequestAborted).ConfigureAwait(false);
        var deleted = result.Results.FirstOrDefault()?.Deleted ?? 0;
        if (!prefix && !all && deleted == 0)
        {
            return ApiError.Result(404, "not_found", $"key '{KvPathKey.Of(ctx).Display}' not found");
        }

        var (shown, keyEncoding) = KeyText(k);
        return Results.Json(new JsonBodies.WriteBody(shown, result.Revision, true, deleted, result.Revision, keyEncoding), JsonBodies.Options);
    }

    private static async Task<IResult> ListAsync(HttpContext ctx, IKvNode node)
    {
        var q = ctx.Request.Query;
        var limit = q.TryGetValue("limit", out var l) ? (int)ParseLong(l.ToString(), "limit") : 100;
        if (limit is < 1 or > 10_000)
        {
            return ApiError.Result(400, "invalid_argument", "limit must be between 1 and 10000");
        }

        var prefix = Encoding.UTF8.GetBytes(q["prefix"].ToString());
        var start = q.TryGetValue("continuation", out var c) && c.ToString().Length > 0
            ? Convert.FromBase64String(c.ToString())
            : q.TryGetValue("start", out var s) ? Encoding.UTF8.GetBytes(s.ToString()) : prefix;
        var end = q.TryGetValue("end", out var en) ? Encoding.UTF8.GetBytes(en.ToString()) : KeyRanges.PrefixEnd(prefix);
        if (end.Length > 0 && end.AsSpan().SequenceCompareTo(start) <= 0)
        {
            return Results.Json(new JsonBodies.ListBody([], 0, null, false), JsonBodies.Options);
        }

        var range = await node.RangeAsync(
            new RangeRequest(start.Length == 0 ? [0x00] : start, end.Length == 0 ? [0x00] : end, Limit: limit),
            Consistency(ctx),
            ctx.RequestAborted).ConfigureAwait(false);
        var more = range.More;
        var page = range.Kvs;
        string? next = null;
        if (more)
        {
            var last = page[^1].Key.ToArray();
            next = Convert.ToBase64String([.. last, 0]);
        }

        return Results.Json(new JsonBodies.ListBody(page.Select(ToBody).ToList(), page.Count, next, more), JsonBodies.Options);
    }

    private static async Task<byte[]> ReadBodyAsync(HttpContext ctx)
    {
        using var ms = new MemoryStream();
        await ctx.Request.Body.CopyToAsync(ms, ctx.RequestAborted).ConfigureAwait(false);
        return ms.ToArray();
    }

    private static (byte[] Value, long? Ttl) ParseValue(HttpContext ctx, byte[] body)
    {
        var type = ctx.Request.ContentType ?? string.Empty;
        if (!type.StartsWith("application/json", StringComparison.OrdinalIgnoreCase) && !type.EndsWith("+json", StringComparison.OrdinalIgnoreCase))
        {
            return (body, null); // raw bytes (application/octet-stream, text/plain, …)
        }

        JsonBodies.PutBody? parsed;
        try
        {
            parsed = JsonSerializer.Deserialize<JsonBodies.PutBody>(body, JsonBodies.Options);
        }
        catch (JsonException e) when (e.Path is { Length: > 1 } path && e.InnerException is not JsonException)
        {
            // A field of the wrong type ({"ttl": "ten"}): System.Text.Json's message names our C# record instead.
            throw new JsonException($"{path} has the wrong type ({{\"value\": string or any JSON, \"ttl\": seconds, \"encoding\": \"base64\" or \"utf-8\"}})", e.Path, e.LineNumber, e.BytePositionInLine);
        }

        if (parsed is null)
        {
            throw new ArgumentException("JSON body must be an object like {\"value\": \"...\"}");
        }

        if (parsed.Value is not { } v || v.ValueKind is JsonValueKind.Undefined or JsonValueKind.Null)
        {
            throw new ArgumentException("JSON body needs a \"value\"");
        }

        if (parsed.Encoding is not (null or "base64" or "utf-8" or "utf8"))
        {
            throw new ArgumentException($"encoding must be \"base64\" or \"utf-8\" (the default), not '{parsed.Encoding}'");
        }

        try
        {
            byte[] value = v.ValueKind == JsonValueKind.String
                ? parsed.Encoding is "base64" ? Convert.FromBase64String(v.GetString()!) : Encoding.UTF8.GetBytes(v.GetString()!)
                : Encoding.UTF8.GetBytes(v.GetRawText());
            return (value, parsed.Ttl);
        }
        catch (InvalidOperationException e)
        {
            throw new ArgumentException("JSON string is not valid UTF-8: " + e.Message);
        }
    }

    private static long ParseLong(string s, string name)
        => long.TryParse(s, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var v)
            ? v
            : throw new ArgumentException($"{name} must be an integer, got '{s}'");

    /// <summary>The requested consistency; a linearizable read that passed the pipeline's <see cref="ReadFence"/>
    /// reads local state (its barrier already ran).</summary>
    private static ReadConsistency Consistency(HttpContext ctx)
        => ReadFence.Consistency(ctx, ctx.Request.Query["consistency"].ToString().ToLowerInvariant() switch
        {
            "" or "linearizable" => ReadConsistency.Linearizable,
            "serializable" or "stale" => ReadConsistency.Serializable,
            var other => throw new ArgumentException($"consistency must be 'linearizable' or 'serializable', got '{other}'"),
        });

    private static bool WantsRaw(HttpContext ctx)
    {
        var accept = ctx.Request.Headers.Accept.ToString();
        return accept.Contains("application/octet-stream", StringComparison.OrdinalIgnoreCase) && !accept.Contains("application/json", StringComparison.OrdinalIgnoreCase);
    }

    private static async Task<KeyValue?> GetKvAsync(IKvNode node, byte[] key, ReadConsistency consistency, CancellationToken cancellationToken)
    {
        if (key.Length >= 2 && key[0] == 0x00 && key[1] == 0xFF)
        {
            return null; // the reserved prefix is never a key
        }

        var r = await node.RangeAsync(new RangeRequest(key), consistency, cancellationToken).ConfigureAwait(false);
        return r.Kvs.Count > 0 ? r.Kvs[0] : null;
    }

    /// <summary>A key (or value) for a JSON answer: its text, or base64 with <c>"key_encoding":"base64"</c>
    /// (<c>"encoding"</c>) when it is not UTF-8 (two binary keys must not both print as replacement characters).</summary>
    internal static (string Key, string? Encoding) KeyText(ReadOnlySpan<byte> key)
    {
        try
        {
            return (StrictUtf8.GetString(key), null);
        }
        catch (DecoderFallbackException)
        {
            return (Convert.ToBase64String(key), "base64");
        }
    }

    internal static JsonBodies.KeyValueBody ToBody(KeyValue e)
    {
        var (value, encoding) = KeyText(e.Value.Span); // values follow the keys' rule: text, else base64 with "encoding"
        var (key, keyEncoding) = KeyText(e.Key.Span);
        return new JsonBodies.KeyValueBody(key, value, e.ModRevision, TierName(e.Tier), e.ExpiresAtUnixMs == 0 ? null : e.ExpiresAtUnixMs, encoding,
            e.CreateRevision, e.ModRevision, e.Version, e.Lease, keyEncoding);
    }

    internal static string TierName(Tier tier) => tier switch
    {
        Tier.Memory => "memory",
        Tier.Disk => "disk",
        Tier.Object => "object",
        _ => "none",
    };
}
