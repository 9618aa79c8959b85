using Google.Protobuf;
using Grpc.Core;
using Grpc.Net.Client;
using RaftKv.Chaos.Checker;
using RaftKv.Protocol.V1;

namespace RaftKv.Chaos.Harness;

/// <summary>
/// A watcher pinned to one node (native raftkv.v1 Watch, same machinery as etcd's Watch) on the workload's keys,
/// from revision 1: when its stream breaks (node killed, connection reset) it watches the same node again from the
/// revision after the last event it received, as clients resume. <see cref="Nudge"/> abandons a stream that stalled
/// (packets dropped without a reset) so the next one starts on a fresh call.
/// </summary>
public sealed class WatchObserver(ChaosNode node, string prefix, long startRevision = 1) : IDisposable
{
    private readonly GrpcChannel _channel = GrpcChannel.ForAddress("http://" + node.Grpc);
    private readonly List<WatchedEvent> _events = [];
    private CancellationTokenSource? _call;

    public string Name => $"watcher on node {node.Id}";

    public int NodeId => node.Id;

    public int Resumes { get; private set; }

    /// <summary>Set when the server said the start revision was compacted (the watch then ends).</summary>
    public long? CompactedAt { get; private set; }

    public IReadOnlyList<WatchedEvent> Events
    {
        get
        {
            lock (_events)
            {
                return [.. _events];
            }
        }
    }

    public long LastRevision
    {
        get
        {
            lock (_events)
            {
                return _events.Count == 0 ? startRevision - 1 : _events[^1].Revision;
            }
        }
    }

    public void Nudge() => _call?.Cancel();

    /// <summary>Ends the watch for good (its member was removed): no more events, no resume.</summary>
    public void Stop()
    {
        _stopped = true;
        _call?.Cancel();
    }

    private volatile bool _stopped;

    public async Task RunAsync(CancellationToken stop)
    {
        while (!stop.IsCancellationRequested && CompactedAt is null && !_stopped)
        {
            using var call = CancellationTokenSource.CreateLinkedTokenSource(stop);
            _call = call;
            try
            {
                var client = new KV.KVClient(_channel);
                using var stream = client.Watch(new WatchRequest { Key = ByteString.CopyFromUtf8(prefix), Prefix = true, StartVersion = (ulong)(LastRevision + 1) }, cancellationToken: call.Token);
                await foreach (var response in stream.ResponseStream.ReadAllAsync(call.Token))
                {
                    if (response.Compacted)
                    {
                        CompactedAt = (long)response.CompactRevision;
                        return;
                    }

                    lock (_events)
                    {
                        foreach (var e in response.Events)
                        {
                            _events.Add(new WatchedEvent((long)e.Kv.ModRevision, e.Kv.Key.ToStringUtf8(), e.Type == WatchEvent.Types.EventType.Delete, Workload.FromWire(e.Kv.Value.ToStringUtf8())));
                        }
                    }
                }
            }
            catch (RpcException)
            {
            }
            catch (OperationCanceledException) when (!stop.IsCancellationRequested && !_stopped)
            {
            }
            catch (OperationCanceledException)
            {
                return;
            }

            if (_stopped)
            {
                return;
            }

            Resumes++;
            try
            {
                await Task.Delay(200, stop);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    public void Dispose() => _channel.Dispose();
}
