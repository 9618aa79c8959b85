namespace RaftKv.Replication.Api;

/// <summary>
/// One message of the learner tail stream (docs/architecture.md, "Learners"): consecutive committed entries
/// (<see cref="Entries"/>), or a chunk of the leader's snapshot when the entries the learner asked for are
/// compacted away (<see cref="SnapshotChunk"/>; the last chunk has <see cref="SnapshotDone"/>), or a keep-alive
/// (neither). Entries arrive in index order without gaps, after the snapshot when one is sent.
/// </summary>
/// <param name="Entries">Committed entries, in index order (empty for snapshot chunks and keep-alives).</param>
/// <param name="SnapshotChunk">Bytes of the snapshot (the content of DotNext's snapshot entry, as the log installs it).</param>
/// <param name="SnapshotIndex">The snapshot's index (snapshot chunks only).</param>
/// <param name="SnapshotTerm">The snapshot's term (snapshot chunks only).</param>
/// <param name="SnapshotDone">The snapshot's last chunk.</param>
/// <param name="CommitIndex">The leader's commit index when the message was sent.</param>
public sealed record LearnerTailItem(IReadOnlyList<LearnerTailEntry> Entries, byte[]? SnapshotChunk, long SnapshotIndex, long SnapshotTerm, bool SnapshotDone, long CommitIndex);
