using System.Threading.Channels;
using Grpc.Core;
using RaftKv.Replication.Api;
using V3 = RaftKv.Protocol.Etcd;

namespace RaftKv.Server.Etcd;

/// <summary>
/// One etcd watch stream: reads create / cancel / progress requests, delivers live revisions to its synced
/// watchers through one group (EtcdWatchSession.Group.cs), lets a watcher that starts in the past or falls
/// behind catch up from the history in its own task, and writes every response through one queue, in order,
/// from one writer.
/// </summary>
/// <remarks>
/// <para><b>Order.</b> A watcher's "created" response is queued before it can queue anything and its
/// "canceled" response after it can no longer queue anything (under the watcher's lock), so a
/// client sees created → events in revision order → canceled, per watcher.</para>
/// <para><b>Bounds.</b> Each watcher may have at most <see cref="EtcdWatchOptions.MaxPendingPerWatcher"/>
/// event responses queued; beyond that it leaves the group and its catch-up task waits (reading no further
/// history), while the stream's other watchers go on. If it waits longer
/// than <see cref="EtcdWatchOptions.SlowWatcherTimeout"/> the watcher is canceled with a cancel_reason
/// — never dropped silently. Control responses (created, canceled, progress) take no credit; there is at
/// most one created and two canceled per watcher (the server's end, then the answer to the client's cancel).</para>
/// <para><b>etcd's rules.</b> watch_id 0 = the server picks the lowest unused id ≥ 0 (etcd's
/// AutoWatchID); a client-chosen id already in use, or a range_end at or before the key, is answered
/// created=true, canceled=true with watch_id -1 and etcd's reason. start_revision 0 = from the next
/// revision; a compacted start revision (or compaction overtaking a slow watcher) is answered
/// canceled=true with compact_revision set; a watcher the server ended (compacted, too slow, failed) keeps its id on
/// the stream until the client cancels it, and that cancel is answered "canceled" again (etcd's watchStream). A
/// cancel of an unknown id is ignored. A progress request
/// is answered with watch_id -1 and a header revision below every event still to come on this stream.
/// When the client closes its side the watchers keep running until the call ends (as etcd).</para>
/// </remarks>
internal sealed partial class EtcdWatchSession : IAsyncDisposable
{
    /// <summary>etcd's watch id for responses not tied to one watcher (clientv3.InvalidWatchID).</summary>
    public const long NoWatchId = -1;

    private readonly IKvNode _node;
    private readonly EtcdIdentity _identity;
    private readonly IServerStreamWriter<V3.WatchResponse> _stream;
    private readonly EtcdWatchOptions _options;
    private readonly ILogger _log;
    private readonly CancellationTokenSource _cts;
    private readonly Channel<(V3.WatchResponse Response, Watcher? Credit)> _queue =
        Channel.CreateUnbounded<(V3.WatchResponse, Watcher?)>(new UnboundedChannelOptions { SingleReader = true });

    private readonly Dictionary<long, Watcher> _watchers = [];
    private readonly Task _writer;
    private Task? _progress;

    public EtcdWatchSession(IKvNode node, EtcdIdentity identity, IServerStreamWriter<V3.WatchResponse> stream, EtcdWatchOptions options, ILogger log, CancellationToken callCancelled)
    {
        _node = node;
        _identity = identity;
        _stream = stream;
        _options = options;
        _log = log;
        _cts = CancellationTokenSource.CreateLinkedTokenSource(callCancelled);
        _writer = WriteLoopAsync(_cts.Token);
        var feed = node.SubscribeRevisions();
        _groupRevision = feed.Revision;
        _groupTask = GroupLoopAsync(feed, _cts.Token);
    }

    /// <summary>Serves the stream until the call ends (client gone, or cancelled).</summary>
    public async Task RunAsync(IAsyncStreamReader<V3.WatchRequest> requests)
    {
        var token = _cts.Token;
        _progress = ProgressLoopAsync(token);
        try
        {
            while (await requests.MoveNext(token).ConfigureAwait(false))
            {
                var request = requests.Current;
                switch (request.RequestUnionCase)
                {
                    case V3.WatchRequest.RequestUnionOneofCase.CreateRequest:
                        Create(request.CreateRequest);
                        break;
                    case V3.WatchRequest.RequestUnionOneofCase.CancelRequest:
                        CancelByClient(request.CancelRequest.WatchId);
                        break;
                    case V3.WatchRequest.RequestUnionOneofCase.ProgressRequest:
                        Control(new V3.WatchResponse { Header = _identity.Header(ProgressRevision()), WatchId = NoWatchId });
                        break;
                    default:
                        break; // etcd ignores an empty request
                }
            }

            // The client closed its side: keep serving the watchers until the call ends.
            await Task.WhenAny(_writer, Task.Delay(Timeout.Infinite, token)).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (token.IsCancellationRequested)
        {
        }

        if (_writer.IsFaulted)
        {
            await _writer.ConfigureAwait(false); // surface the transport error
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _cts.CancelAsync().ConfigureAwait(false);
        await Quiet(_groupTask ?? Task.CompletedTask).ConfigureAwait(false); // starts no catch-up after this
        Watcher[] all;
        lock (_watchers)
        {
            all = [.. _watchers.Values];
            _watchers.Clear();
        }

        foreach (var w in all)
        {
            w.Stop();
        }

        _queue.Writer.TryComplete();
        await Task.WhenAll(all.Select(w => w.Pump).Append(_writer).Append(_progress ?? Task.CompletedTask).Select(Quiet)).ConfigureAwait(false);
        _cts.Dispose();
    }

    private static async Task Quiet(Task t)
    {
        try
        {
            await t.ConfigureAwait(false);
        }
        catch (Exception)
        {
            // Ending: the call is over, its errors were already answered or are the transport's.
        }
    }

    private void Control(V3.WatchResponse response) => _queue.Writer.TryWrite((response, null));

    /// <summary>Responses written without a flush while more are queued, at most this many in a row.</summary>
    private const int MaxUnflushed = 64;

    private static readonly WriteOptions Buffered = new(WriteFlags.BufferHint);

    /// <summary>The one writer. While more responses are queued it writes with <see cref="WriteFlags.BufferHint"/>
    /// (no flush), and flushes with the last queued one or every <see cref="MaxUnflushed"/>: with many watchers a
    /// revision is one response per watcher, and a flush (an HTTP/2 frame and a send) per response made the stream
    /// CPU-bound (bench/compare-watch.sh). A credit is released once its response is handed to the transport.</summary>
    private async Task WriteLoopAsync(CancellationToken token)
    {
        await Task.Yield();
        var reader = _queue.Reader;
        var unflushed = 0;
        while (await reader.WaitToReadAsync(token).ConfigureAwait(false))
        {
            while (reader.TryRead(out var item))
            {
                var buffer = reader.TryPeek(out _) && ++unflushed < MaxUnflushed;
                if (!buffer)
                {
                    unflushed = 0;
                }

                _stream.WriteOptions = buffer ? Buffered : null;
                await _stream.WriteAsync(item.Response, token).ConfigureAwait(false);
                item.Credit?.Release();
            }
        }
    }

    /// <summary>The revision a progress response may carry: every event still to come on this stream is
    /// newer. Each watcher has delivered everything up to its <see cref="Watcher.Reached"/>; with no
    /// open watcher (ended ones wait only for the client's cancel), the node's revision.</summary>
    private long ProgressRevision()
    {
        lock (_watchers)
        {
            var open = _watchers.Values.Where(w => !w.Closed).ToList();
            return open.Count == 0 ? _node.Revision : Math.Min(_node.Revision, open.Min(w => w.Reached)); // a future start revision is not progress
        }
    }

    private async Task ProgressLoopAsync(CancellationToken token)
    {
        using var timer = new PeriodicTimer(_options.ProgressNotifyInterval);
        try
        {
            while (await timer.WaitForNextTickAsync(token).ConfigureAwait(false))
            {
                Watcher[] due;
                lock (_watchers)
                {
                    due = _watchers.Values.Where(w => w.ProgressNotify && !w.Closed).ToArray();
                }

                foreach (var w in due)
                {
                    // An idle watcher (no event response since the last tick) gets the revision it has reached,
                    // if it has room in the queue (a watcher with a full queue is not idle).
                    if (w.TakeIdleTick() && w.TryTakeCredit())
                    {
                        var response = new V3.WatchResponse { Header = _identity.Header(w.Reached), WatchId = w.Id };
                        if (!w.TryQueue(() => _queue.Writer.TryWrite((response, w))))
                        {
                            w.Release();
                        }
                    }
                }
            }
        }
        catch (OperationCanceledException)
        {
        }
    }
}
