using System.Runtime.CompilerServices;
using RaftKv.Replication.Api;
using RaftKv.Storage;

namespace RaftKv.Replication.State;

/// <summary>Reads of the MVCC history (<see cref="MvccLayout.HistoryKey"/> records): a key range as it was at a
/// revision, streamed from one store scan.</summary>
internal sealed partial class KvState
{
    /// <summary>The keys of [start, end) (or the single key) as they were at <paramref name="revision"/>, from the
    /// history, in key order. Keeps the first <paramref name="limit"/> keys (0 = all) and only counts the rest.</summary>
    /// <returns>The keys kept and the number of keys at the revision.</returns>
    public async Task<(List<KeyValue> Kvs, long Count)> ReadHistoryAsync(byte[] start, byte[] end, bool single, long revision, int limit, CancellationToken token)
    {
        var clock = LogicalClock;
        var result = new List<KeyValue>();
        if (single)
        {
            var from = MvccLayout.HistoryKey(start, revision);
            var to = MvccLayout.HistoryKey(start, 0);
            await foreach (var e in _store.ScanAsync(from, to, 1, clock, token).ConfigureAwait(false))
            {
                var (k, rev) = MvccLayout.ParseHistoryKey(e.Key.Span);
                if (MvccLayout.DecodeHistory(k, rev, e.Value, e.Tier) is { } kv && IsLive(kv, clock))
                {
                    result.Add(kv);
                }
            }

            return (result, result.Count);
        }

        long count = 0;
        await foreach (var kv in StreamHistoryAsync(start, end, revision, token).ConfigureAwait(false))
        {
            count++;
            if (limit == 0 || result.Count < limit)
            {
                result.Add(kv);
            }
        }

        return (result, count);
    }

    /// <summary>
    /// The live keys of [start, end) (empty end = unbounded) as they were at <paramref name="revision"/>, in key
    /// order, each with its value and metadata at that revision: one pass over the history records of the range.
    /// </summary>
    /// <remarks>
    /// Consistency: one store scan (<see cref="RaftKv.Storage.IKvStore.ScanAsync"/>), which reads the snapshot the
    /// store holds when the enumeration starts and pins its tables (a reference, not a lock: the apply loop,
    /// flushes and compactions go on, and a table a compaction replaces stays readable until the scan ends).
    /// History records are written once, so what the scan sees at a revision cannot change under it; the caller
    /// checks the revision is at or above the compact revision before it starts (the history compaction filter
    /// keeps the newest record at or below the compact revision of every key). No lock is held between items:
    /// the consumer may be slow. Archived tables are paged in from the object store as the scan reaches them.
    /// TTL expiry is judged at the logical clock when the enumeration starts.
    /// </remarks>
    public async IAsyncEnumerable<KeyValue> StreamHistoryAsync(byte[] start, byte[] end, long revision, [EnumeratorCancellation] CancellationToken token)
    {
        var clock = LogicalClock;
        var (hs, he) = MvccLayout.HistoryRange(start, end);
        var scan = _store.ScanAsync(hs, he, 0, clock, token).GetAsyncEnumerator(token);
        await using (scan.ConfigureAwait(false))
        {
            await foreach (var kv in NewestAtAsync(scan, scan.MoveNextAsync().AsTask(), revision, clock).ConfigureAwait(false))
            {
                yield return kv;
            }
        }
    }

    /// <summary>The history records <paramref name="scan"/> yields (its first move already made: <paramref name="first"/>),
    /// as each key's newest record at or below <paramref name="revision"/> that is live at <paramref name="clock"/>.</summary>
    private static async IAsyncEnumerable<KeyValue> NewestAtAsync(IAsyncEnumerator<KvEntry> scan, Task<bool> first, long revision, long clock)
    {
        byte[]? current = null;
        var done = false;
        for (var more = await first.ConfigureAwait(false); more; more = await scan.MoveNextAsync().ConfigureAwait(false))
        {
            var e = scan.Current;
            var (k, rev) = MvccLayout.ParseHistoryKey(e.Key.Span);
            if (current is null || !current.AsSpan().SequenceEqual(k))
            {
                current = k;
                done = false;
            }

            if (done || rev > revision)
            {
                continue;
            }

            done = true; // the newest record ≤ revision decides
            if (MvccLayout.DecodeHistory(k, rev, e.Value, e.Tier) is { } kv && IsLive(kv, clock))
            {
                yield return kv;
            }
        }
    }
}
