using System.Diagnostics;
using Google.Protobuf;
using Grpc.Core;
using Grpc.Net.Client;
using RaftKv.Chaos.History;
using RaftKv.Protocol.V1;

namespace RaftKv.Chaos.Harness;

/// <summary>
/// Seeded client workers: each loops read / write-unique / compare-and-set on a small key set
/// against random nodes, one request in flight, one attempt per operation (no client retries, so
/// every outcome is recorded as it happened). Times come from one monotonic clock.
/// </summary>
public sealed class Workload(IReadOnlyList<ChaosNode> nodes, int seed, int workers, int keys, TimeSpan timeout)
{
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, KV.KVClient> _clients = new(StringComparer.Ordinal);
    private IReadOnlyList<ChaosNode> _nodes = [.. nodes];
    private readonly List<Operation> _history = [];
    private readonly List<Attempt> _attempts = [];
    private readonly Lock _lock = new();
    private int _nextId;

    /// <summary>When set, reads are serializable and go to this node only (the barrier-less self-test).</summary>
    public ChaosNode? StaleReadsFrom { get; init; }

    /// <summary>
    /// While true, worker w sends every request to node w mod n (so each side of a partition has
    /// clients), and one read in five is serializable (counted in <see cref="Attempts"/>, left out of
    /// the checked history: a serializable read may be stale by contract).
    /// </summary>
    public bool Pinned
    {
        get => Volatile.Read(ref _pinned);
        set => Volatile.Write(ref _pinned, value);
    }

    private bool _pinned;

    /// <summary>The members the workers send to (a copy; replaced whole when the membership changes, read once per
    /// operation). Starts as the constructor's nodes.</summary>
    public IReadOnlyList<ChaosNode> Nodes
    {
        get => Volatile.Read(ref _nodes);
        set => Volatile.Write(ref _nodes, [.. value]);
    }

    /// <summary>Every worker request with the node it went to.</summary>
    public IReadOnlyList<Attempt> Attempts
    {
        get
        {
            lock (_lock)
            {
                return _attempts.ToList();
            }
        }
    }

    public IReadOnlyList<Operation> History
    {
        get
        {
            lock (_lock)
            {
                return _history.ToList();
            }
        }
    }

    public async Task RunAsync(CancellationToken stop)
    {
        await Task.WhenAll(Enumerable.Range(0, workers).Select(w => Task.Run(() => WorkerAsync(w, new Random(seed * 7919 + w), stop), CancellationToken.None)));
    }

    /// <summary>
    /// Appends a read performed outside the workers (final verification reads): linearizable, asked of
    /// each node in turn until one answers or <paramref name="deadline"/> passes (right after a restart
    /// leadership may still move). Failed attempts are not recorded: a read that failed had no effect.
    /// </summary>
    /// <returns>Null on success, else the last error.</returns>
    public async Task<string?> FinalReadAsync(string key, DateTime deadline)
    {
        var error = "no attempt";
        for (var attempt = 0; DateTime.UtcNow < deadline; attempt++)
        {
            var members = Nodes;
            var node = members[attempt % members.Count];
            try
            {
                using var channel = GrpcChannel.ForAddress("http://" + node.Grpc);
                var invoke = Stopwatch.GetTimestamp();
                var r = await new KV.KVClient(channel).GetAsync(new GetRequest { Key = ByteString.CopyFromUtf8(key) }, deadline: DateTime.UtcNow.AddSeconds(10));
                Record(new Operation(0, -1, key, OpKind.Read, null, null, r.Found ? FromWire(r.Kv.Value.ToStringUtf8()) : null, invoke, Stopwatch.GetTimestamp(), OpStatus.Ok));
                return null;
            }
            catch (RpcException e)
            {
                error = $"node {node.Id}: {e.Status.StatusCode} {e.Status.Detail}";
                await Task.Delay(200);
            }
        }

        return error;
    }

    /// <summary>Every workload key starts with this (the watch checker watches the prefix).</summary>
    public const string KeyPrefix = "k";

    public IEnumerable<string> Keys => Enumerable.Range(0, keys).Select(k => $"{KeyPrefix}{k}");

    private async Task WorkerAsync(int worker, Random rng, CancellationToken stop)
    {
        var counter = 0;
        var lastSeen = new Dictionary<string, string?>();
        while (!stop.IsCancellationRequested)
        {
            // Pacing keeps histories checkable: a short pause per op, a longer one after an error.
            await Pace(worker, stop);
            var key = $"k{rng.Next(keys)}";
            var members = Nodes;
            var drawn = members[rng.Next(members.Count)];
            var roll = rng.Next(100);
            var pinned = Pinned && StaleReadsFrom is null;
            var node = pinned ? members[worker % members.Count] : drawn;
            var invoke = Stopwatch.GetTimestamp();
            var deadline = DateTime.UtcNow + timeout;
            if (pinned && roll < 10)
            {
                var ok = true;
                string? error = null;
                try
                {
                    await Client(node).GetAsync(new GetRequest { Key = ByteString.CopyFromUtf8(key), Consistency = Consistency.Serializable }, deadline: deadline, cancellationToken: CancellationToken.None);
                }
                catch (RpcException e)
                {
                    ok = false;
                    error = Code(e);
                }

                Note(new Attempt(node.Id, AttemptKind.SerializableRead, invoke, Stopwatch.GetTimestamp(), ok, error));
            }
            else if (roll < 50)
            {
                var target = StaleReadsFrom ?? node;
                try
                {
                    var r = await Client(target).GetAsync(new GetRequest { Key = ByteString.CopyFromUtf8(key), Consistency = StaleReadsFrom is null ? Consistency.Linearizable : Consistency.Serializable }, deadline: deadline, cancellationToken: CancellationToken.None);
                    var value = r.Found ? FromWire(r.Kv.Value.ToStringUtf8()) : null;
                    lastSeen[key] = value;
                    Record(new Operation(0, worker, key, OpKind.Read, null, null, value, invoke, Stopwatch.GetTimestamp(), OpStatus.Ok), target, StaleReadsFrom is null ? AttemptKind.LinearizableRead : AttemptKind.SerializableRead);
                }
                catch (RpcException e)
                {
                    Record(new Operation(0, worker, key, OpKind.Read, null, null, null, invoke, Stopwatch.GetTimestamp(), OpStatus.Fail), target, StaleReadsFrom is null ? AttemptKind.LinearizableRead : AttemptKind.SerializableRead, e);
                }
            }
            else if (roll < 80 || StaleReadsFrom is not null)
            {
                var value = $"w{worker}-{counter++}";
                var target = StaleReadsFrom is null ? node : members.First(n => n != StaleReadsFrom);
                try
                {
                    await Client(target).PutAsync(new PutRequest { Key = ByteString.CopyFromUtf8(key), Value = ByteString.CopyFromUtf8(Wire(value)), RequestId = Guid.NewGuid().ToString("N") }, deadline: deadline, cancellationToken: CancellationToken.None);
                    Record(new Operation(0, worker, key, OpKind.Write, value, null, null, invoke, Stopwatch.GetTimestamp(), OpStatus.Ok), target, AttemptKind.Write);
                }
                catch (RpcException e)
                {
                    Record(new Operation(0, worker, key, OpKind.Write, value, null, null, invoke, Stopwatch.GetTimestamp(), Outcome(e)), target, AttemptKind.Write, e);
                }
            }
            else
            {
                var expected = lastSeen.GetValueOrDefault(key);
                var value = $"c{worker}-{counter++}";
                var txn = new TxnRequest { RequestId = Guid.NewGuid().ToString("N") };
                txn.Compare.Add(expected is null
                    ? new Compare { Key = ByteString.CopyFromUtf8(key), Target = Compare.Types.Target.Exists, Exists = false }
                    : new Compare { Key = ByteString.CopyFromUtf8(key), Target = Compare.Types.Target.Value, Op = Compare.Types.Op.Equal, Value = ByteString.CopyFromUtf8(Wire(expected)) });
                txn.Success.Add(new TxnOp { Put = new PutRequest { Key = ByteString.CopyFromUtf8(key), Value = ByteString.CopyFromUtf8(Wire(value)) } });
                try
                {
                    var r = await Client(node).TxnAsync(txn, deadline: deadline, cancellationToken: CancellationToken.None);
                    Record(new Operation(0, worker, key, OpKind.Cas, value, expected, r.Succeeded ? "true" : "false", invoke, Stopwatch.GetTimestamp(), OpStatus.Ok), node, AttemptKind.Write);
                    if (r.Succeeded)
                    {
                        lastSeen[key] = value;
                    }
                }
                catch (RpcException e)
                {
                    Record(new Operation(0, worker, key, OpKind.Cas, value, expected, null, invoke, Stopwatch.GetTimestamp(), Outcome(e)), node, AttemptKind.Write, e);
                }
            }
        }
    }

    private KV.KVClient Client(ChaosNode node) => _clients.GetOrAdd(node.Grpc, g => new KV.KVClient(GrpcChannel.ForAddress("http://" + g)));

    private async Task Pace(int worker, CancellationToken stop)
    {
        Operation? last;
        lock (_lock)
        {
            last = _history.LastOrDefault(o => o.Client == worker);
        }

        var pause = last is null || last.Status == OpStatus.Ok ? 10 : 150;
        try
        {
            await Task.Delay(pause, stop);
        }
        catch (OperationCanceledException)
        {
        }
    }

    /// <summary>Rejected before proposing (not leader and no forward, bad input) = did not happen; anything else may have.</summary>
    /// <summary>Padding that makes a value large enough for the server to keep it once (its MVCC layout's 4 KiB
    /// threshold), so runs cover both value layouts; histories and reports keep the short value.</summary>
    private static readonly string Padding = new('.', 4200);

    /// <summary>The value as sent: values whose text ends in 3 or 7 (a fifth of them, decided by the text alone so
    /// a compare sends its expected value the way it was written) carry <see cref="Padding"/>.</summary>
    private static string Wire(string value) => value.EndsWith('3') || value.EndsWith('7') ? value + Padding : value;

    /// <summary>The value as recorded: a read's value without an intact padding (a damaged one stays, so the checker
    /// sees a value nobody wrote).</summary>
    internal static string FromWire(string wire) => wire.EndsWith(Padding, StringComparison.Ordinal) ? wire[..^Padding.Length] : wire;

    private static OpStatus Outcome(RpcException e)
        => e.StatusCode is StatusCode.FailedPrecondition or StatusCode.InvalidArgument ? OpStatus.Fail : OpStatus.Unknown;

    private void Record(Operation op, ChaosNode node, AttemptKind kind, RpcException? error = null)
    {
        Record(op);
        Note(new Attempt(node.Id, kind, op.Invoke, op.Return, op.Status == OpStatus.Ok, error is null ? null : Code(error)));
    }

    /// <summary>The status code, marked "/transport" when the client failed before a server answered (refused
    /// connection, reset stream: gRPC then carries the client-side exception): the node was not serving.</summary>
    internal static string Code(RpcException e) => e.Status.DebugException is null ? e.StatusCode.ToString() : $"{e.StatusCode}/transport";

    private void Note(Attempt attempt)
    {
        lock (_lock)
        {
            _attempts.Add(attempt);
        }
    }

    private void Record(Operation op)
    {
        lock (_lock)
        {
            _history.Add(op with { Id = ++_nextId });
        }
    }
}
