using RaftKv.Storage;

namespace RaftKv.Replication.State;

/// <summary>Reads of values kept once (MVCC layout version 3, <see cref="MvccLayout.LargeValueMinBytes"/>): the current
/// value of such a key is in its history record at the key's mod revision, not in its current-value record.</summary>
/// <remarks>History records are written once and never changed, so reading one after the key's metadata is safe
/// without a lock: it can only disappear when a later change of the key is compacted past it, which changes the
/// apply sequence the current-state reader checks (<see cref="ReadCurrentOrHistoryAsync"/>).</remarks>
internal sealed partial class KvState
{
    /// <summary>The value kept once of a key whose metadata is <paramref name="m"/> (may read the object store, like
    /// any value read); null when its history record is not there.</summary>
    private ValueTask<(ReadOnlyMemory<byte> Value, Tier Tier)?> ValueKeptOnceAsync(ReadOnlyMemory<byte> key, KeyMeta m, long clock, CancellationToken token)
        => KeptOnceValues.ReadAsync(_store, key, m.Mod, clock, token);

    /// <summary>A value kept once whose history record is missing although the key did not change while it was read:
    /// the record is lost (a storage fault), never answered as an empty value.</summary>
    private static StorageCorruptionException HistoryRecordMissing(List<Api.KeyValue> kvs)
        => new("MVCC history", $"the history record holding the current value of key {Convert.ToHexString(kvs[^1].Key.Span)} at mod revision {kvs[^1].ModRevision} is missing");
}
