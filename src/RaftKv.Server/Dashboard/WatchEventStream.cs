using System.Globalization;
using System.Text;
using System.Text.Json;
using RaftKv.Replication.Api;
using RaftKv.Server.Http;
using RaftKv.Server.Pipeline;

namespace RaftKv.Server.Dashboard;

/// <summary>
/// <c>GET /watch?prefix=P</c> (or <c>?key=K</c>), optional <c>start_revision=N</c>: the changes to a prefix
/// or key as Server-Sent Events, from <see cref="IKvNode.WatchRevisionsAsync"/> (the MVCC history, then
/// live; works on any member). Wire format, version 1 (text/event-stream):
/// <list type="bullet">
/// <item><c>event: ready</c>, <c>data: {"revision": R}</c> once, when the watch is registered: every
/// revision above R (or from <c>start_revision</c>) follows;</item>
/// <item><c>event: put</c> | <c>event: delete</c>, <c>id: revision</c>, <c>data:</c> the key as in
/// <c>GET /kv</c> (<see cref="JsonBodies.KeyValueBody"/>; a delete has only key and revisions);</item>
/// <item><c>event: error</c>, <c>data: {"error","code"}</c> (e.g. <c>compacted</c>) and the stream ends.</item>
/// <item>A <c>start_revision</c> below the compacted revision is refused before the stream starts: 400 <c>compacted</c>.</item>
/// </list>
/// Events of one revision are written then flushed together. The stream ends when the client goes away
/// or the node begins to shut down (so an open dashboard never holds up a graceful stop).
/// </summary>
public static class WatchEventStream
{
    public static async Task RunAsync(HttpContext context, IKvNode node, IHostApplicationLifetime lifetime)
    {
        var q = context.Request.Query;
        var prefix = q.TryGetValue("prefix", out var p);
        var key = Encoding.UTF8.GetBytes(prefix ? p.ToString() : q["key"].ToString());
        if (!prefix && key.Length == 0)
        {
            throw new ArgumentException("give prefix=… (may be empty: every key) or key=…");
        }

        var start = q.TryGetValue("start_revision", out var s)
            ? long.TryParse(s, NumberStyles.None, CultureInfo.InvariantCulture, out var r) && r > 0 ? r : throw new ArgumentException("start_revision must be a positive integer")
            : node.Revision + 1;
        if (node.CompactRevision is var compacted && start < compacted)
        {
            // Refused before the stream starts (400 compacted), as etcd refuses such a watch at its creation; "ready"
            // promises every later revision. A compaction racing this check still ends the stream with an error event.
            throw new RevisionCompactedException(start, compacted);
        }

        byte[]? end = prefix ? KeyRanges.PrefixEnd(key) is { Length: > 0 } pe ? pe : [0x00] : null;
        if (prefix && key.Length == 0)
        {
            key = [0x00];
        }

        using var stop = CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted, lifetime.ApplicationStopping);
        var ct = stop.Token;
        await using var events = node.WatchRevisionsAsync(key, end, start, false, ct).GetAsyncEnumerator(ct);
        context.Response.ContentType = "text/event-stream";
        context.Response.Headers.CacheControl = "no-cache";
        context.Response.Headers["X-Accel-Buffering"] = "no";
        var body = context.Response.Body;
        try
        {
            await WriteAsync(body, "ready", null, new { revision = start - 1 }, ct).ConfigureAwait(false);
            while (await events.MoveNextAsync().ConfigureAwait(false))
            {
                foreach (var e in events.Current)
                {
                    var kv = e.Type == MvccEventType.Put ? KvHttpApi.ToBody(e.Kv) : null;
                    var (shown, keyEncoding) = KvHttpApi.KeyText(e.Kv.Key.Span);
                    object data = kv ?? (object)new { key = shown, key_encoding = keyEncoding, mod_revision = e.Kv.ModRevision };
                    await WriteAsync(body, e.Type == MvccEventType.Put ? "put" : "delete", e.Kv.ModRevision, data, ct).ConfigureAwait(false);
                }
            }
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
        }
        catch (Exception e) when (ApiError.Map(e) is { Status: not 500 } mapped && !ct.IsCancellationRequested)
        {
            await WriteAsync(body, "error", null, new ApiError.ErrorBody(mapped.Message, mapped.Code), CancellationToken.None).ConfigureAwait(false);
        }
    }

    private static async Task WriteAsync(Stream body, string type, long? id, object data, CancellationToken ct)
    {
        var json = JsonSerializer.Serialize(data, JsonBodies.Options); // one line: JSON escapes newlines
        var text = id is { } i ? $"event: {type}\nid: {i.ToString(CultureInfo.InvariantCulture)}\ndata: {json}\n\n" : $"event: {type}\ndata: {json}\n\n";
        await body.WriteAsync(Encoding.UTF8.GetBytes(text), ct).ConfigureAwait(false);
        await body.FlushAsync(ct).ConfigureAwait(false);
    }
}
