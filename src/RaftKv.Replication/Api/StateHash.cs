namespace RaftKv.Replication.Api;

/// <summary>
/// One member's hash of its user keyspace right after applying the hash checkpoint at
/// <see cref="Index"/> (docs/architecture.md, "Corruption check"). Equal states give equal hashes on
/// every member whatever their physical layout (memtable/flush/compaction/archiving timing).
/// </summary>
/// <param name="MemberId">The member that computed it.</param>
/// <param name="Index">The hash checkpoint's Raft index.</param>
/// <param name="Hash">SHA-256 over every live user key in key order (key, version, expiry, value),
/// lower-case hex; null when <see cref="Corruption"/> is set.</param>
/// <param name="Keys">Live user keys hashed.</param>
/// <param name="Corruption">Set when the member could not read its own state because a file failed its
/// checksum or structure check: the file and the damage (a corrupt member, whatever the others say).</param>
public sealed record StateHash(long MemberId, long Index, string? Hash, long Keys, string? Corruption = null);
