namespace RaftKv.Storage;

/// <summary>A live key/value as seen by a read at a point in time.</summary>
/// <param name="Key">The key.</param>
/// <param name="Value">The value.</param>
/// <param name="Version">The Raft index of the write that produced this value.</param>
/// <param name="ExpiresAtUnixMs">Absolute expiry on the logical clock; 0 = never.</param>
/// <param name="Tier">Where the value was found.</param>
public readonly record struct KvEntry(ReadOnlyMemory<byte> Key, ReadOnlyMemory<byte> Value, long Version, long ExpiresAtUnixMs, Tier Tier);
