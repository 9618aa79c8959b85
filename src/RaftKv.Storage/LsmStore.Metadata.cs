using RaftKv.Storage.Iteration;
using RaftKv.Storage.Tables;

namespace RaftKv.Storage;

/// <remarks>
/// Metadata reads (<see cref="IKvStore.GetMetadata"/>, <see cref="IKvStore.ScanMetadata"/>): the same
/// merge as <see cref="GetAsync"/> and <see cref="ScanAsync"/>, except that an archived table is read
/// through its local keys file (<see cref="KeysFile"/>) instead of its object, so nothing here waits
/// on the object store. A table archived while a metadata scan runs is picked up by re-opening the
/// merge after the last key returned (its keys file is attached before it turns remote).
/// </remarks>
public sealed partial class LsmStore
{
    public KeyMetadata? GetMetadata(ReadOnlyMemory<byte> key, long nowUnixMs)
    {
        var state = AcquireState(out var index);
        try
        {
            var k = key.Span;
            foreach (var mem in state.Memtables)
            {
                if (mem.Get(k, index) is { } node)
                {
                    return node.IsLiveAt(nowUnixMs)
                        ? new KeyMetadata(key, node.Version, node.ExpiresAtUnixMs, node.ValueLength, node.Value, Tier.Memory)
                        : null;
                }
            }

            var hash = BloomFilter.Hash(k);
            foreach (var tables in state.Tables.LevelArrays)
            {
                foreach (var table in tables)
                {
                    if (!table.MayContain(k, hash) || !table.TryFindLocal(k, out var e, out var value, out var length))
                    {
                        continue;
                    }

                    return e.IsLiveAt(nowUnixMs)
                        ? new KeyMetadata(key, e.Version, e.ExpiresAtUnixMs, length, value, table.IsRemote ? Tier.Object : Tier.Disk)
                        : null;
                }
            }

            return null;
        }
        finally
        {
            state.Unref();
        }
    }

    public IEnumerable<KeyMetadata> ScanMetadata(ReadOnlyMemory<byte> start, ReadOnlyMemory<byte> end, int limit, long nowUnixMs)
    {
        var from = start.ToArray();
        var until = end.ToArray();
        var count = 0;
        using var view = AcquireView();
        while (true)
        {
            var merged = OpenMetadataScan(view, from, until);
            bool? live;
            while ((live = NextLive(merged, until, nowUnixMs)) == true)
            {
                var key = merged.Key.ToArray();
                yield return new KeyMetadata(key, merged.Version, merged.ExpiresAtUnixMs, -1, null, merged.Tier);
                if (limit > 0 && ++count >= limit)
                {
                    yield break;
                }

                from = Successor(key);
            }

            if (live == false)
            {
                yield break;
            }

            // null: a local table was archived meanwhile and its next block is no longer local.
            // Every archived table of the view now has its keys file: merge again after the last key.
        }
    }

    /// <summary>The merge of <paramref name="view"/>'s memtables and the metadata readers of its
    /// tables (keys files for archived tables) over [start, end).</summary>
    private static MergingCursor OpenMetadataScan(ReadView view, byte[] start, byte[] end)
    {
        var sources = new List<EntryCursor>();
        foreach (var mem in view.Memtables)
        {
            sources.Add(new MemtableCursor(mem, start, end, view.SnapshotIndex));
        }

        var levels = view.Tables.Levels;
        for (var level = 0; level < levels.Length; level++)
        {
            var overlapping = levels[level].Where(t => t.Overlaps(start, end)).Select(t => t.MetadataReader).ToList();
            if (level == 0)
            {
                sources.AddRange(overlapping.Select(t => new TableCursor([t], start)));
            }
            else if (overlapping.Count > 0)
            {
                sources.Add(new TableCursor(overlapping, start));
            }
        }

        return new MergingCursor(sources);
    }

    /// <summary>The smallest key greater than <paramref name="key"/>.</summary>
    private static byte[] Successor(byte[] key) => [.. key, 0];
}
