namespace RaftKv.Tiering.Backups;

/// <summary>
/// One backup: a consistent point-in-time LSM checkpoint of one replica (the leader when it was taken),
/// as objects in the backup bucket. Encoded by <see cref="BackupManifestFormat"/>.
/// </summary>
/// <param name="Id">Unique: <c>{created:yyyyMMddTHHmmss.fffZ}-n{node}-{random}</c>, so ids sort by creation time
/// and two nodes (a leader change) never write the same manifest.</param>
/// <param name="ClusterId">The etcd cluster id of the source cluster (derived from its member ids: clusters with the same
/// NODE_IDs share it, so it does not tell clusters apart; <see cref="ClusterUid"/> does).</param>
/// <param name="SourceNodeId">The member whose checkpoint this is.</param>
/// <param name="CreatedUnixMs">When the checkpoint was taken (the source's wall clock).</param>
/// <param name="RaftIndex">The checkpoint's Raft index (every entry ≤ it is in the tables).</param>
/// <param name="RaftTerm">The term of that entry.</param>
/// <param name="Revision">The MVCC revision at <paramref name="RaftIndex"/>.</param>
/// <param name="CompactRevision">The compact revision at <paramref name="RaftIndex"/>.</param>
/// <param name="Members">The source cluster's members.</param>
/// <param name="Files">The checkpoint's files: <c>CHECKPOINT</c> first, then every table as a whole file.</param>
/// <param name="UploadedBytes">Bytes this backup stored that no earlier backup had (the rest are shared).</param>
public sealed record BackupManifest(
    string Id,
    ulong ClusterId,
    long SourceNodeId,
    long CreatedUnixMs,
    long RaftIndex,
    long RaftTerm,
    long Revision,
    long CompactRevision,
    IReadOnlyList<BackupMember> Members,
    IReadOnlyList<BackupFile> Files,
    long UploadedBytes)
{
    /// <summary>The replicated cluster uid of the source cluster (32 lowercase hex digits; manifest format version 2),
    /// or null for a legacy (format version 1) manifest, whose cluster is unknown: see <see cref="BackupCatalog"/>.</summary>
    public string? ClusterUid { get; init; }

    /// <summary>Whether this backup is of the cluster with uid <paramref name="clusterUid"/> (never true for a legacy manifest).</summary>
    public bool IsOf(string? clusterUid) => ClusterUid is not null && string.Equals(ClusterUid, clusterUid, StringComparison.Ordinal);

    /// <summary>Total size of the backup's files (what a restore downloads).</summary>
    public long DataBytes => Files.Sum(f => f.Size);

    /// <summary>The SHA-256 of the manifest body as read (null on a manifest not read from the store):
    /// a restored cluster's id is derived from it.</summary>
    public byte[]? Checksum { get; init; }

    public DateTimeOffset Created => DateTimeOffset.FromUnixTimeMilliseconds(CreatedUnixMs);
}
