using System.Text;
using Google.Protobuf;
using Grpc.Core;
using V3 = RaftKv.Protocol.Etcd;

namespace RaftKv.EndToEnd.Tests.Etcd.Differential;

/// <summary>One watch stream of one side of the differential test: sends requests, records every response,
/// and renders what must match etcd (<see cref="Render"/>).</summary>
internal sealed class WatchRecorder : IAsyncDisposable
{
    private readonly AsyncDuplexStreamingCall<V3.WatchRequest, V3.WatchResponse> _call;
    private readonly List<V3.WatchResponse> _responses = [];
    private readonly Task _reader;
    private readonly CancellationTokenSource _stop = new();

    public WatchRecorder(DiffSide side)
    {
        _call = side.Watch.Watch(cancellationToken: _stop.Token);
        _reader = Task.Run(async () =>
        {
            try
            {
                await foreach (var r in _call.ResponseStream.ReadAllAsync(_stop.Token))
                {
                    lock (_responses)
                    {
                        _responses.Add(r);
                    }
                }
            }
            catch (RpcException) when (_stop.IsCancellationRequested)
            {
            }
            catch (OperationCanceledException)
            {
            }
        });
    }

    public int Count
    {
        get
        {
            lock (_responses)
            {
                return _responses.Count;
            }
        }
    }

    public Task SendAsync(V3.WatchRequest request) => _call.RequestStream.WriteAsync(request);

    /// <summary>Per watch id, in arrival order: created / canceled (reason, compact revision) and every event
    /// (responses flattened: how etcd batches events into responses, and their header revision, depend on
    /// timing); progress answers (watch id -1) with their revision. Progress notifications (no events, a
    /// watcher's own id) are only counted in <paramref name="notified"/>.</summary>
    public string Render(out HashSet<long> notified)
    {
        notified = [];
        var byId = new SortedDictionary<long, StringBuilder>();
        lock (_responses)
        {
            foreach (var r in _responses)
            {
                var line = r switch
                {
                    { Created: true } => $"created{(r.Canceled ? $" canceled ({r.CancelReason})" : string.Empty)}",
                    { Canceled: true } => $"canceled ({r.CancelReason}) compact_revision={r.CompactRevision}",
                    { Events.Count: > 0 } => string.Join("\n", r.Events.Select(e => JsonFormatter.Default.Format(e))),
                    { WatchId: -1 } => $"progress revision={r.Header.Revision}",
                    _ => null,
                };
                if (line is null)
                {
                    notified.Add(r.WatchId);
                    continue;
                }

                if (!byId.TryGetValue(r.WatchId, out var sb))
                {
                    byId[r.WatchId] = sb = new StringBuilder();
                }

                sb.Append(line).Append('\n');
            }
        }

        return string.Join(string.Empty, byId.Select(x => $"watch {x.Key}:\n{x.Value}"));
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        try
        {
            await _reader;
        }
        catch (RpcException)
        {
        }

        _call.Dispose();
        _stop.Dispose();
    }
}
