using RaftKv.Storage;

namespace RaftKv.Replication.State;

/// <summary>
/// A forward cursor over a pinned scan of the "m/" records (<see cref="MvccLayout"/>), asked for the metadata of user
/// keys in increasing key order: "m/" + k sorts like k, so one pass over both serves a whole hash (<see cref="StateHasher"/>).
/// Not thread-safe: one reader.
/// </summary>
internal sealed class MetaCursor(IAsyncEnumerator<KvEntry> scan, Task<bool> first)
{
    private bool _started;
    private bool _more;

    /// <summary>The metadata of <paramref name="key"/> in the scan's view; null when it has none. Keys must be asked
    /// in increasing order.</summary>
    public async ValueTask<KeyMeta?> FindAsync(ReadOnlyMemory<byte> key)
    {
        if (!_started)
        {
            _more = await first.ConfigureAwait(false);
            _started = true;
        }

        var target = MvccLayout.MetaKey(key.Span);
        while (_more)
        {
            var c = KeyComparer.Compare(scan.Current.Key.Span, target);
            if (c == 0)
            {
                return MvccLayout.DecodeMeta(scan.Current.Value.Span, scan.Current.ExpiresAtUnixMs);
            }

            if (c > 0)
            {
                return null;
            }

            _more = await scan.MoveNextAsync().ConfigureAwait(false);
        }

        return null;
    }
}
