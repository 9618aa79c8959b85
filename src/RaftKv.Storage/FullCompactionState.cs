namespace RaftKv.Storage;

/// <summary>
/// The levels a running full compaction has filled with its own output only ("fresh" levels). A forced pick
/// (<see cref="LsmStore"/>) moves a fresh level into an empty level instead of rewriting it a second time: its
/// tables already passed the compaction filter, and their tombstones and expired entries already went if
/// nothing lay below (nothing does when the level below is empty and so is everything deeper, or they meet
/// the deeper data in a later push). The progress plan follows the same rule, so the planned pushes stay the
/// pushes made. One full compaction; not thread-safe.
/// </summary>
internal sealed class FullCompactionState
{
    private readonly HashSet<int> _fresh = [];

    public bool IsFresh(int level) => _fresh.Contains(level);

    /// <summary>Records a forced push of the whole of level <paramref name="from"/> into <paramref name="to"/>:
    /// <paramref name="from"/> is left empty; <paramref name="to"/> holds only this compaction's tables when
    /// it held nothing else before (<paramref name="toWasEmpty"/>, or it was fresh) and what came in is new
    /// (a rewrite, or a move of a fresh level).</summary>
    public void Pushed(int from, int to, bool isMove, bool toWasEmpty)
    {
        var incomingNew = !isMove || IsFresh(from);
        var onlyNew = incomingNew && (toWasEmpty || IsFresh(to));
        _fresh.Remove(from);
        if (onlyNew)
        {
            _fresh.Add(to);
        }
        else
        {
            _fresh.Remove(to);
        }
    }
}
