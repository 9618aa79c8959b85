using DotNext.IO.Log;
using DotNext.Net.Cluster;
using DotNext.Net.Cluster.Consensus.Raft;
using DotNext.Net.Cluster.Consensus.Raft.StateMachine;
using Microsoft.Extensions.Logging;
using RaftKv.Replication.State;
using RaftKv.Storage.IO;

namespace RaftKv.Replication.Log;

/// <summary>
/// RaftKv's Raft log for DotNext's <see cref="RaftCluster"/>: <see cref="RaftLogStore"/> (append-only
/// segments, one write + fsync per group of entries) and <see cref="NodeStateFile"/> (term, vote),
/// applying committed entries to an <see cref="IRaftStateMachine"/> (<see cref="KvState"/> in a node).
/// </summary>
/// <remarks>
/// <para><b>Why not DotNext's WAL.</b> DotNext 6.12's <see cref="WriteAheadLog"/> flushes a memory-mapped
/// chunk with <c>msync</c>, then writes its checkpoint file with O_DSYNC, and writes the checkpoint again
/// whenever the commit index moves: three synchronous disk writes per Raft round on every node, one
/// after the other. On this project's machines that was most of a put's latency (BENCHMARKS.md).
/// This log writes each group of entries, and the commit index as a hint, with one write and one fsync.</para>
/// <para><b>Why it derives from WriteAheadLog.</b> <see cref="IPersistentState"/> has an <c>internal</c>
/// setter (<c>ConfigurationStorage</c>), so only a DotNext type can implement it. This class re-implements
/// every other interface member (C# interface re-implementation); the base instance lives in an empty
/// <c>dotnext/</c> directory, holds no entries, runs no flusher and serves only <c>ConfigurationStorage</c>.
/// Its public log API is hidden (RaftLog.Fence.cs), and a test checks the interface map.</para>
/// <para><b>Durability.</b> An entry counts towards a commit only once durable: the leader's
/// <c>CommitAsync(n)</c> waits until entries up to n are fsynced; a follower's waits until every entry
/// it holds is (it acknowledges them all in its reply). Term and vote are durable before the call that
/// changes them returns.</para>
/// <para><b>Concurrency.</b> <c>_appendLock</c> serializes log mutations (they are synchronous: batches
/// from the network are read first). One flusher thread writes; one applier task applies, and holds
/// <c>_applyGate</c> per batch so a snapshot installation can keep it out.</para>
/// </remarks>
internal sealed partial class RaftLog : WriteAheadLog, IPersistentState, IAuditTrail<IRaftLogEntry>, IAuditTrail, IReplicatedLog
{
    private readonly RaftLogStore _store;
    private readonly NodeStateFile _nodeState;
    private readonly IRaftStateMachine _state;
    private readonly ILogger _logger;
    private readonly Lock _appendLock = new();
    private readonly SemaphoreSlim _applyGate = new(1, 1);
    private readonly DotNext.Threading.AsyncAutoResetEvent _applyTrigger = new(false);
    private readonly CancellationTokenSource _lifetime = new();
    private readonly Lock _signalLock = new();
    private readonly PriorityQueue<TaskCompletionSource, long> _waiters = new(); // by index; guarded by _signalLock
    private TaskCompletionSource _applied = NewSignal();
    private TaskCompletionSource _flushed = NewSignal();
    private long _commitIndex;
    private long _appliedIndex;
    private long _followerFlushWaits;
    private Exception? _failure;
    private Task _applier = Task.CompletedTask;
    private Thread? _flusher;
    private int _initialized;

    private RaftLog(Options shim, RaftLogStore store, NodeStateFile nodeState, IRaftStateMachine state, ILogger logger)
        : base(shim, IStateMachine.CreateNoOp())
    {
        _store = store;
        _nodeState = nodeState;
        _state = state;
        _logger = logger;
        _commitIndex = store.DurableCommitIndex;
        _appliedIndex = store.BaseIndex;
    }

    /// <summary>Opens the log in <paramref name="directory"/> over <paramref name="state"/>, whose snapshot MUST be restored
    /// already. <paramref name="preallocateSegments"/>: see <see cref="RaftLogStoreOptions.PreallocateSegments"/>.</summary>
    public static RaftLog Open(string directory, IRaftStateMachine state, ILogger logger, IFileSystem? fileSystem = null, bool preallocateSegments = false)
    {
        var fs = fileSystem ?? PhysicalFileSystem.Instance;
        var snapshot = state.Snapshot;
        var options = new RaftLogStoreOptions
        {
            Directory = directory,
            FileSystem = fs,
            PreallocateSegments = preallocateSegments,
            AvailableBytes = () => DiskSpaceReserve.AvailableBytesOf(directory),
        };
        var store = RaftLogStore.Open(options, snapshot?.Index ?? 0, snapshot?.Term ?? 0);
        var nodeState = NodeStateFile.Open(fs, directory);
        if (store.TornTail is { } torn)
        {
            LogTornTailDropped(logger, torn); // an unacknowledged final write cut short by a crash
        }

        return new RaftLog(ShimOptions(directory), store, nodeState, state, logger) { Reserve = OpenReserve(fs, directory, logger) };
    }

    public IPersistentState AuditTrail => this;

    public Func<bool> IsLeader { get; set; } = static () => false;

    public long Term => _nodeState.Term;

    public new long LastAppliedIndex => Interlocked.Read(ref _appliedIndex);

    public long LastCommittedIndex => Interlocked.Read(ref _commitIndex);

    public long LastIndex => _store.LastIndex;

    public long FollowerFlushWaits => Interlocked.Read(ref _followerFlushWaits);

    /// <summary>Flushes performed (each one write + fsync).</summary>
    public long Flushes => _store.Flushes;

    long IPersistentState.Term => _nodeState.Term;

    int IPersistentState.Version => _state.ProtocolVersion;

    bool IAuditTrail.IsLogEntryLengthAlwaysPresented => true;

    long IAuditTrail.LastCommittedEntryIndex => Interlocked.Read(ref _commitIndex);

    long IAuditTrail.LastEntryIndex => _store.LastIndex;

    bool IPersistentState.IsVotedFor(in ClusterMemberId id) => _nodeState.IsVotedFor(id);

    ValueTask<long> IPersistentState.IncrementTermAsync(ClusterMemberId member, CancellationToken token)
        => ValueTask.FromResult(_nodeState.IncrementTerm(member));

    ValueTask IPersistentState.UpdateTermAsync(long term, bool resetLastVote, CancellationToken token)
    {
        _nodeState.UpdateTerm(term, resetLastVote);
        return ValueTask.CompletedTask;
    }

    ValueTask IPersistentState.UpdateVotedForAsync(ClusterMemberId member, CancellationToken token)
    {
        _nodeState.UpdateVotedFor(member);
        return ValueTask.CompletedTask;
    }

    /// <summary>Starts the flusher and the applier, then replays committed entries past the snapshot.</summary>
    public override async Task InitializeAsync(CancellationToken token = default)
    {
        if (Interlocked.Exchange(ref _initialized, 1) == 0)
        {
            _flusher = new Thread(FlushLoop) { IsBackground = true, Name = "raftkv-log-flusher" };
            _flusher.Start();
            _applier = Task.Run(ApplyLoopAsync, CancellationToken.None);
            _applyTrigger.Set();
        }

        await WaitForAppliedAsync(Interlocked.Read(ref _commitIndex), token).ConfigureAwait(false);
    }

    protected override async ValueTask DisposeAsyncCore()
    {
        await _lifetime.CancelAsync().ConfigureAwait(false);
        _flushRequest.Set();
        _flusher?.Join();
        await _applier.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);

        // Nothing will be flushed or applied any more: release every waiter with an error.
        Interlocked.CompareExchange(ref _failure, new ObjectDisposedException(nameof(RaftLog)), null);
        TaskCompletionSource flushed;
        lock (_signalLock)
        {
            flushed = _flushed;
        }

        flushed.TrySetResult();
        SignalApplied();
        try
        {
            _store.Flush(Interlocked.Read(ref _commitIndex)); // what is still queued, and the commit index as a replay hint
        }
        catch (IOException e)
        {
            LogFlushFailed(_logger, e);
        }

        _store.Dispose();
        await base.DisposeAsyncCore().ConfigureAwait(false);
    }

    private static TaskCompletionSource NewSignal() => new(TaskCreationOptions.RunContinuationsAsynchronously);

    private void ThrowIfFailed()
    {
        if (Volatile.Read(ref _failure) is { } failure)
        {
            throw new InvalidOperationException("the Raft log failed; the node must restart", failure);
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Raft log recovery dropped a torn final write (never acknowledged): {Where}")]
    private static partial void LogTornTailDropped(ILogger logger, string where);

    [LoggerMessage(Level = LogLevel.Critical, Message = "Raft log flush failed; the node stops accepting entries")]
    private static partial void LogFlushFailed(ILogger logger, Exception error);

    [LoggerMessage(Level = LogLevel.Critical, Message = "Applying entry {Index} failed; the node stops applying")]
    private static partial void LogApplyFailed(ILogger logger, long index, Exception error);
}
