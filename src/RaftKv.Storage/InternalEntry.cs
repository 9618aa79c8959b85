namespace RaftKv.Storage;

/// <summary>One versioned record inside the engine (memtable or SSTable), tombstones included.</summary>
/// <param name="Key">The user key.</param>
/// <param name="Value">The value (empty for tombstones).</param>
/// <param name="Version">The Raft index that wrote it.</param>
/// <param name="ExpiresAtUnixMs">Expiry on the logical clock; 0 = never.</param>
/// <param name="Tombstone">Whether this records a delete.</param>
public sealed record InternalEntry(byte[] Key, byte[] Value, long Version, long ExpiresAtUnixMs, bool Tombstone)
{
    /// <summary>Live (not a tombstone, not expired) at <paramref name="nowUnixMs"/>.</summary>
    public bool IsLiveAt(long nowUnixMs) => !Tombstone && (ExpiresAtUnixMs == 0 || ExpiresAtUnixMs > nowUnixMs);

    /// <summary>Approximate memory/disk footprint.</summary>
    public int ApproximateSize => Key.Length + Value.Length + 24;
}
