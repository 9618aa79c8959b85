using RaftKv.Replication.Api;

namespace RaftKv.Replication.State;

/// <summary>
/// The key spaces the LSM keeps in separate tables (<see cref="Storage.LsmOptions.PartitionBoundaries"/>):
/// user keys below the reserved prefix, the state machine's own records (<c>0x00 0xFF</c>: revision, clock,
/// request ids, leases, auth, alarms), MVCC history (<c>h/</c>), the revision index (<c>i/</c>, ordered by revision), MVCC metadata (<c>m/</c>), and user keys
/// above the reserved prefix.
/// </summary>
/// <remarks>
/// Every put writes a user key, its <c>m/</c> record and its <c>h/</c> record (<see cref="MvccLayout"/>), three
/// spaces each ordered by the user key. In one table they would make every table span from <c>0x00 0xFF</c>
/// to the user keys, so every table would overlap every other: no table could move down a level without
/// a rewrite and each compaction would pull in the whole next level, archived tables included (read back
/// from S3 and rewritten locally, which is why local disk could not stay under DISK_MAX_SIZE_GB after a bulk
/// load). Kept apart, a sequential load's tables overlap nothing below and move down as they are.
/// Changing these boundaries needs no migration: existing tables are split as compactions rewrite them.
/// </remarks>
internal static class TablePartitions
{
    public static IReadOnlyList<byte[]> Boundaries { get; } =
    [
        ReservedKeys.Prefix,
        MvccLayout.HistoryPrefix,
        KeyRanges.PrefixEnd(MvccLayout.HistoryPrefix),
        MvccLayout.IndexPrefix,
        KeyRanges.PrefixEnd(MvccLayout.IndexPrefix),
        MvccLayout.MetaPrefix,
        KeyRanges.PrefixEnd(MvccLayout.MetaPrefix),
        KeyRanges.PrefixEnd(ReservedKeys.Prefix),
    ];
}
