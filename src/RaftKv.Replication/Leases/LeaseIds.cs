namespace RaftKv.Replication.Leases;

/// <summary>
/// Picks the id of a lease granted with id 0. At apply, from the grant's Raft index, so every replica
/// picks the same id without the leader having to know the applied state ahead of time: a 64-bit mix of
/// the index (ids look random, like etcd's, and do not collide with the small ids clients tend to pick),
/// masked to a positive int64, then the next free id if it is taken (the table is the same everywhere).
/// </summary>
internal static class LeaseIds
{
    public static long Pick(long index, LeaseTable table)
    {
        var id = Mix((ulong)index);
        while (id == 0 || table.Contains(id))
        {
            id = (id + 1) & long.MaxValue;
        }

        return id;
    }

    /// <summary>SplitMix64's finalizer, masked to 63 bits.</summary>
    private static long Mix(ulong x)
    {
        x += 0x9E3779B97F4A7C15UL;
        x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9UL;
        x = (x ^ (x >> 27)) * 0x94D049BB133111EBUL;
        x ^= x >> 31;
        return (long)(x & long.MaxValue);
    }
}
