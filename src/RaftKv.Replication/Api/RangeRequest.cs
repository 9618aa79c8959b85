namespace RaftKv.Replication.Api;

/// <summary>
/// A read of a key or a key range at a revision (etcd's <c>RangeRequest</c>).
/// <see cref="RangeEnd"/> null/empty = the single <see cref="Key"/>; <see cref="RangeEnd"/> == [0x00] = every
/// key ≥ <see cref="Key"/>; <see cref="Key"/> == [0x00] and <see cref="RangeEnd"/> == [0x00] = all keys;
/// otherwise [Key, RangeEnd). <see cref="Limit"/> 0 = unlimited. <see cref="Revision"/> 0 = current
/// (must satisfy CompactRevision ≤ Revision ≤ current revision, else
/// <see cref="RevisionCompactedException"/> / <see cref="FutureRevisionException"/>). Min/Max filters 0 = no filter.
/// </summary>
public sealed record RangeRequest(byte[] Key, byte[]? RangeEnd = null, long Limit = 0, long Revision = 0,
    SortOrder SortOrder = SortOrder.None, SortTarget SortTarget = SortTarget.Key, bool KeysOnly = false,
    bool CountOnly = false, long MinModRevision = 0, long MaxModRevision = 0, long MinCreateRevision = 0,
    long MaxCreateRevision = 0);
