namespace RaftKv.Storage;

/// <summary>
/// Keys a table being written (by a flush or a compaction) must not straddle: the writer ends its current
/// table before the first key at or past the next boundary, so every table lies between two consecutive
/// boundaries. Boundaries come from <see cref="LsmOptions.PartitionBoundaries"/> (the owner's key spaces,
/// kept in separate tables so that tables of different spaces never overlap) and, for a compaction, the
/// smallest keys of the output level's tables the compaction does not rewrite (so its outputs never
/// overlap them: the level stays disjoint without pulling those tables in).
/// </summary>
/// <remarks>Keys must be presented in ascending order; all versions of one key are one key here, so a
/// key's entries never land in two tables. Not thread-safe: one instance per writer loop.</remarks>
internal sealed class TableBoundaries
{
    private readonly byte[][] _bounds;
    private int _next; // the first boundary above every key seen so far

    public TableBoundaries(IEnumerable<byte[]> bounds)
    {
        _bounds = bounds.Order(KeyComparer.Instance).ToArray(); // duplicates are harmless: Crosses steps over both
    }

    public static TableBoundaries None { get; } = new([]);

    /// <summary>Moves past <paramref name="key"/>; true when a boundary lies above the previous key and
    /// at or below this one (the table being written must end before <paramref name="key"/>).</summary>
    public bool Crosses(ReadOnlySpan<byte> key)
    {
        var crossed = false;
        while (_next < _bounds.Length && KeyComparer.Compare(key, _bounds[_next]) >= 0)
        {
            _next++;
            crossed = true;
        }

        return crossed;
    }
}
