using DotNext.IO.Log;
using DotNext.Net.Cluster.Consensus.Raft.StateMachine;

namespace RaftKv.Replication;

/// <summary>
/// DotNext's <see cref="WriteAheadLog"/> with one change on the follower path: the follower answers
/// AppendEntries only after every entry it holds is fsynced.
/// </summary>
/// <remarks>
/// <para>
/// DotNext 6.12's WAL flushes in the background (triggered by each append) and, when it reopens,
/// keeps only the entries its checkpoint says were flushed. Its commit waits for the flush of the
/// entries being committed, so the leader never commits ahead of its own disk. A follower, however,
/// calls <c>AppendAsync</c> then <c>CommitAsync(leaderCommit)</c> and replies: the entries it has just
/// appended are past the leader's commit index, so nothing waits for them, yet the leader counts the
/// reply towards the quorum that commits them. A whole-cluster crash in that window (every node
/// SIGKILLed, or a power cut) could forget an acknowledged write on every follower, and a follower
/// could then win the election and overwrite it on the old leader.
/// </para>
/// <para>
/// docs/architecture.md (PUT path): "A write is acknowledged only after its entry is committed on a quorum and fsynced
/// there." So on a follower, <c>CommitAsync</c> first waits until the flusher has covered
/// <c>LastEntryIndex</c>. The flusher is shared: one fsync covers every entry appended so far.
/// </para>
/// <para>
/// <c>CommitAsync</c> is sealed in the base, so <see cref="IAuditTrail"/> is re-implemented here
/// (C# interface re-implementation); every other member still maps to the base class.
/// </para>
/// </remarks>
internal sealed class DurableWriteAheadLog(WriteAheadLog.Options configuration, IStateMachine stateMachine)
    : WriteAheadLog(configuration, stateMachine), IAuditTrail, Log.IReplicatedLog
{
    DotNext.Net.Cluster.Consensus.Raft.IPersistentState Log.IReplicatedLog.AuditTrail => this;

    long Log.IReplicatedLog.Term => ((DotNext.Net.Cluster.Consensus.Raft.IPersistentState)this).Term;

    long Log.IReplicatedLog.LastCommittedIndex => LastCommittedEntryIndex;

    long Log.IReplicatedLog.LastIndex => LastEntryIndex;

    /// <summary>DotNext's WAL reports no disk-full state (its flush errors surface as they are).</summary>
    Storage.IO.DiskFullException? Log.IReplicatedLog.DiskFull => null;

    long Log.IReplicatedLog.Flushes => 0;

    ValueTask Log.IReplicatedLog.WaitForAppliedAsync(long index, CancellationToken token) => WaitForApplyAsync(index, token);

    Task Log.IReplicatedLog.InitializeAsync(CancellationToken token) => InitializeAsync(token);

    /// <summary>
    /// True while this node leads (set once the cluster exists; read on every commit, so it must be
    /// cheap and thread-safe). The leader's commit already waits for its own flush of the entries it
    /// commits. A node handles AppendEntries only after stepping down, so a follower sees <c>false</c>.
    /// </summary>
    public Func<bool> IsLeader { get; set; } = static () => false;

    /// <summary>Counts follower commits that had to wait for the flusher (tests and metrics).</summary>
    public long FollowerFlushWaits => Interlocked.Read(ref _followerFlushWaits);

    private long _followerFlushWaits;

    ValueTask<long> IAuditTrail.CommitAsync(long endIndex, CancellationToken token)
        => IsLeader() ? CommitAsync(endIndex, token) : FlushThenCommitAsync(endIndex, token);

    private async ValueTask<long> FlushThenCommitAsync(long endIndex, CancellationToken token)
    {
        // MUST be durable before the leader hears back: it counts this reply towards its quorum.
        Interlocked.Increment(ref _followerFlushWaits);
        await FlushAsync(token).ConfigureAwait(false);
        return await CommitAsync(endIndex, token).ConfigureAwait(false);
    }
}
