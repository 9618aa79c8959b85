namespace RaftKv.Storage;

/// <summary>
/// K-way merge of sorted sources (each with unique, increasing keys), ordered by rank: for a key
/// present in several sources the one with the lowest rank (the newest data) wins and the others
/// are skipped. Tombstones are passed through; callers decide what to drop.
/// </summary>
public static class MergingIterator
{
    public static async IAsyncEnumerable<(InternalEntry Entry, int Source)> MergeWithSourceAsync(
        IReadOnlyList<IAsyncEnumerable<InternalEntry>> sources,
        [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var enumerators = new IAsyncEnumerator<InternalEntry>[sources.Count];
        var heap = new PriorityQueue<int, (byte[] Key, int Rank)>(new HeapComparer());
        try
        {
            for (var i = 0; i < sources.Count; i++)
            {
                enumerators[i] = sources[i].GetAsyncEnumerator(cancellationToken);
                if (await enumerators[i].MoveNextAsync().ConfigureAwait(false))
                {
                    heap.Enqueue(i, (enumerators[i].Current.Key, i));
                }
            }

            while (heap.TryDequeue(out var winner, out var prio))
            {
                var entry = enumerators[winner].Current;
                // Skip the same key in older sources.
                while (heap.TryPeek(out var other, out var p2) && KeyComparer.Compare(p2.Key, prio.Key) == 0)
                {
                    heap.Dequeue();
                    if (await enumerators[other].MoveNextAsync().ConfigureAwait(false))
                    {
                        heap.Enqueue(other, (enumerators[other].Current.Key, other));
                    }
                }

                yield return (entry, winner);
                if (await enumerators[winner].MoveNextAsync().ConfigureAwait(false))
                {
                    heap.Enqueue(winner, (enumerators[winner].Current.Key, winner));
                }
            }
        }
        finally
        {
            foreach (var e in enumerators)
            {
                if (e is not null)
                {
                    await e.DisposeAsync().ConfigureAwait(false);
                }
            }
        }
    }

    public static async IAsyncEnumerable<InternalEntry> MergeAsync(
        IReadOnlyList<IAsyncEnumerable<InternalEntry>> sources,
        [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        await foreach (var (entry, _) in MergeWithSourceAsync(sources, cancellationToken).ConfigureAwait(false))
        {
            yield return entry;
        }
    }

    private sealed class HeapComparer : IComparer<(byte[] Key, int Rank)>
    {
        public int Compare((byte[] Key, int Rank) x, (byte[] Key, int Rank) y)
        {
            var c = KeyComparer.Compare(x.Key, y.Key);
            return c != 0 ? c : x.Rank.CompareTo(y.Rank);
        }
    }
}
