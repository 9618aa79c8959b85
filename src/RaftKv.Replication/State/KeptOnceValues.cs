using RaftKv.Storage;

namespace RaftKv.Replication.State;

/// <summary>Reads a value kept once (MVCC layout 3, <see cref="MvccLayout.LargeValueMinBytes"/>): the current value of
/// such a key is in its history record at the key's mod revision, not in its current-value record. The one place
/// both the reads (<c>KvState.ValueOnce.cs</c>) and the corruption check (<see cref="StateHasher"/>) get it from.</summary>
internal static class KeptOnceValues
{
    /// <summary>The value of <paramref name="key"/> kept once at mod revision <paramref name="mod"/> and the tier that
    /// held it (may read the object store, like any value read); null when its history record is not there.</summary>
    public static async ValueTask<(ReadOnlyMemory<byte> Value, Tier Tier)?> ReadAsync(IKvStore store, ReadOnlyMemory<byte> key, long mod, long clock, CancellationToken token)
    {
        if (await store.GetAsync(MvccLayout.HistoryKey(key.Span, mod), clock, token).ConfigureAwait(false) is { } record
            && MvccLayout.HistoryValue(record.Value) is { } value)
        {
            return (value, record.Tier);
        }

        return null;
    }
}
