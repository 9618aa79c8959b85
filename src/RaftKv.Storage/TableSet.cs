using RaftKv.Storage.Tables;

namespace RaftKv.Storage;

/// <summary>An immutable snapshot of the live tables by level. L0 is newest-first; deeper levels are sorted by key.</summary>
public sealed class TableSet
{
    public TableSet(IReadOnlyList<TableReader>[] levels)
    {
        Levels = levels;
        LevelArrays = levels.Select(l => l.ToArray()).ToArray();
    }

    public IReadOnlyList<TableReader>[] Levels { get; }

    /// <summary><see cref="Levels"/> as arrays, for the point-lookup path (no interface calls).</summary>
    internal TableReader[][] LevelArrays { get; }

    public IEnumerable<TableReader> All => Levels.SelectMany(l => l);

    public static TableSet Empty(int levels) => new(Enumerable.Range(0, levels).Select(_ => (IReadOnlyList<TableReader>)[]).ToArray());

    /// <summary>A new set without <paramref name="removed"/> and with <paramref name="added"/> (level per table).</summary>
    public TableSet With(IEnumerable<(int Level, TableReader Table)> added, IReadOnlySet<long> removed)
    {
        var levels = Levels.Select(l => l.Where(t => !removed.Contains(t.Id)).ToList()).ToArray();
        foreach (var (level, table) in added)
        {
            levels[level].Add(table);
        }

        levels[0].Sort((a, b) => b.Id.CompareTo(a.Id));
        for (var i = 1; i < levels.Length; i++)
        {
            levels[i].Sort((a, b) => KeyComparer.Instance.Compare(a.Meta.MinKey, b.Meta.MinKey));
        }

        return new TableSet(levels.Select(l => (IReadOnlyList<TableReader>)l).ToArray());
    }

    public int LevelOf(long id)
    {
        for (var i = 0; i < Levels.Length; i++)
        {
            if (Levels[i].Any(t => t.Id == id))
            {
                return i;
            }
        }

        return -1;
    }
}
