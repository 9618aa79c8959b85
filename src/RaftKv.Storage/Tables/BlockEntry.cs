namespace RaftKv.Storage.Tables;

/// <summary>A point-lookup hit inside a cached <see cref="DataBlock"/>: the value is a slice of the
/// block's immutable payload (no copy).</summary>
/// <param name="Value">The value bytes (empty for tombstones).</param>
/// <param name="Version">The Raft index that wrote it.</param>
/// <param name="ExpiresAtUnixMs">Expiry on the logical clock; 0 = never.</param>
/// <param name="Tombstone">Whether this records a delete.</param>
/// <param name="BlobRef">Whether <paramref name="Value"/> is a <see cref="Blobs.BlobPointer"/> to a value kept in a value
/// file (flags bit 1, format version 3) rather than the value; <see cref="TableReader"/> resolves it before handing
/// the entry out.</param>
public readonly record struct BlockEntry(ReadOnlyMemory<byte> Value, long Version, long ExpiresAtUnixMs, bool Tombstone, bool BlobRef = false)
{
    /// <summary>Live (not a tombstone, not expired) at <paramref name="nowUnixMs"/>.</summary>
    public bool IsLiveAt(long nowUnixMs) => !Tombstone && (ExpiresAtUnixMs == 0 || ExpiresAtUnixMs > nowUnixMs);
}
