using RaftKv.Storage;

namespace RaftKv.Replication.State;

/// <summary>
/// The apply loop's cache of MVCC metadata records (<see cref="MvccLayout"/>'s <c>m/</c> records): the
/// metadata of the keys the apply loop wrote most recently, so that a put does not walk the memtables
/// and the tables' filters for the <c>m/</c> record it wrote a moment ago (that lookup was an eighth of
/// a follower's CPU under an etcd put load, BENCHMARKS.md).
/// </summary>
/// <remarks>
/// <para>Exactness: an entry is the last <c>m/</c> record the apply loop wrote for the key (a delete is
/// cached as "absent"), taken from the very batch handed to <see cref="IKvStore.Apply"/> after it
/// succeeded, so it equals what <see cref="ReadMeta"/> would read from the store; TTL expiry is checked
/// against the caller's replicated clock exactly as the store's <c>IsLiveAt</c> does. A key the cache
/// lacks is read from the store. Nothing else changes <c>m/</c> records: compaction drops history
/// only, and an installed snapshot replaces the store, which clears the cache (<see cref="LoadRevision"/>).</para>
/// <para>Concurrency: touched by the apply loop only (apply, snapshot install and start-up never run at
/// the same time), so it has no lock; readers on other threads use <see cref="ReadMeta"/>.</para>
/// </remarks>
internal sealed partial class KvState
{
    /// <summary>At most this many keys (≈ 100 B each); a full cache starts over.</summary>
    private const int MetaCacheMaxEntries = 1 << 17;

    private readonly Dictionary<byte[], KeyMeta?> _applyMetaCache = new(ByteArrayEquality.Instance);

    /// <summary><see cref="ReadMeta"/> for the apply loop: the cached record when there is one.</summary>
    internal KeyMeta? ReadMetaForApply(byte[] key, long clock)
    {
        if (!_applyMetaCache.TryGetValue(key, out var cached))
        {
            return ReadMeta(key, clock);
        }

        return cached is { } m && (m.ExpiresAtUnixMs == 0 || m.ExpiresAtUnixMs > clock) ? m : null;
    }

    /// <summary>Records the <c>m/</c> records of a batch the store has just applied.</summary>
    private void CacheAppliedMeta(List<WriteOp> ops)
    {
        var prefix = MvccLayout.MetaPrefix;
        foreach (var op in ops)
        {
            var key = op.Key.Span;
            if (key.Length <= prefix.Length || !key.StartsWith(prefix))
            {
                continue;
            }

            if (_applyMetaCache.Count >= MetaCacheMaxEntries)
            {
                _applyMetaCache.Clear();
            }

            _applyMetaCache[key[prefix.Length..].ToArray()] = op.Kind == WriteOpKind.Put
                ? MvccLayout.DecodeMeta(op.Value.Span, op.ExpiresAtUnixMs)
                : null;
        }
    }
}
