namespace RaftKv.Storage;

/// <summary>What this node knows of a live key without the object store (see
/// <see cref="IKvStore.GetMetadata"/> and <see cref="IKvStore.ScanMetadata"/>).</summary>
/// <param name="Key">The key.</param>
/// <param name="Version">The Raft index of the write that produced the live value.</param>
/// <param name="ExpiresAtUnixMs">Absolute expiry on the logical clock; 0 = never.</param>
/// <param name="ValueLength">The value's length in bytes.</param>
/// <param name="LocalValue">The value when this node has it without the object store (memtable,
/// local table, cached block, or inline in an archived table's keys file); null when only the object
/// store has it, and always null from <see cref="IKvStore.ScanMetadata"/>. Values of at most
/// <see cref="Tables.KeysFile.InlineValueMaxBytes"/> bytes are always present on every node;
/// whether a longer one is present differs between replicas (flush and archive timing, cache), so a
/// deterministic caller (the state machine) MUST NOT let its outcome depend on that.</param>
/// <param name="Tier">Where the entry was found.</param>
public readonly record struct KeyMetadata(ReadOnlyMemory<byte> Key, long Version, long ExpiresAtUnixMs, int ValueLength, ReadOnlyMemory<byte>? LocalValue, Tier Tier);
