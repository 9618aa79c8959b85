using DotNext.Net.Cluster.Consensus.Raft;
using DotNext.Net.Cluster.Consensus.Raft.StateMachine;

namespace RaftKv.Replication.Log;

/// <summary>
/// What <see cref="RaftLog"/> needs of the state machine it applies to (<see cref="State.KvState"/> in
/// a node; a fake in RaftLog's unit tests).
/// </summary>
/// <remarks>
/// Calls come from one applier at a time, in index order; <see cref="InstallSnapshotAsync"/> never runs
/// concurrently with <see cref="ApplyEntryAsync"/>. Every entry up to <see cref="Snapshot"/>.Index MUST
/// be durable in the state machine: the log drops them once it has applied past the snapshot.
/// </remarks>
internal interface IRaftStateMachine
{
    /// <summary>The newest snapshot (streamed to lagging followers), or null.</summary>
    ISnapshot? Snapshot { get; }

    /// <summary>The replication protocol version (<see cref="IPersistentState.Version"/>).</summary>
    int ProtocolVersion { get; }

    /// <summary>Applies the committed entry at <paramref name="index"/>; an exception stops the log's applier.</summary>
    ValueTask<long> ApplyEntryAsync(long index, long term, bool isConfiguration, byte[] payload, object? context, CancellationToken token);

    /// <summary>Replaces the state with the snapshot <paramref name="entry"/> at <paramref name="index"/>; durable on return.</summary>
    ValueTask<long> InstallSnapshotAsync<TEntry>(TEntry entry, long index, CancellationToken token)
        where TEntry : IRaftLogEntry;

    /// <summary>Deletes snapshots older than <paramref name="watermark"/> (the log has been compacted up to it).</summary>
    ValueTask ReclaimGarbageAsync(long watermark, CancellationToken token);
}
