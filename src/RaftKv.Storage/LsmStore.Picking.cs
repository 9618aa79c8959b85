using RaftKv.Storage.Tables;

namespace RaftKv.Storage;

public sealed partial class LsmStore
{
    /// <summary>
    /// Picks one round of work, or null when no level needs any. With <paramref name="force"/>, L0 is
    /// compacted whenever it has any table and every non-bottom level is pushed down once, always by a
    /// rewrite (a forced compaction exists to drop tombstones, expired entries and filtered history).
    /// </summary>
    /// <remarks>
    /// Inputs of the output level are the tables overlapping at least one chosen table (not the hull of all
    /// chosen tables): the compaction then cuts its outputs at the smallest key of every output-level table
    /// it leaves alone (<see cref="TableBoundaries"/>), so levels ≥ 1 stay disjoint while unrelated tables,
    /// archived ones especially, are neither read nor rewritten. A chosen table that overlaps nothing below
    /// moves down without a rewrite. Caller holds <c>_manifestLock</c> (or reads a published set only).
    /// A forced push of a level in <paramref name="fresh"/> (levels holding only tables this full compaction
    /// wrote, see <see cref="FullCompactionState"/>) into an empty level is a move too: its tables already
    /// passed the compaction filter, and a second rewrite would produce the same entries.
    /// </remarks>
    private CompactionPick? Pick(TableSet set, bool force, FullCompactionState? fresh = null)
    {
        var levels = set.Levels;
        if (levels[0].Count >= _options.L0CompactionTrigger || (force && levels[0].Count > 0))
        {
            var l0 = levels[0];
            if (!force)
            {
                var moves = l0.Where(t => !l0.Any(o => o != t && Overlaps(o, t)) && !levels[1].Any(o => Overlaps(o, t))).ToList();
                if (moves.Count > 0)
                {
                    return CompactionPick.Move(moves, 1);
                }
            }

            return CompactionPick.Merge([.. l0, .. OverlappingAny(levels[1], l0)], 1);
        }

        var target = _options.L1TargetBytes;
        for (var level = 1; level < levels.Length - 1; level++, target *= 10)
        {
            var bytes = levels[level].Sum(t => t.Size);
            var deeperEmpty = levels.Skip(level + 1).All(l => l.Count == 0);
            if (levels[level].Count > 0 && (bytes > target || (force && !deeperEmpty)))
            {
                // Push the whole level down when forced; otherwise one table (round-robin by oldest id).
                var chosen = force ? levels[level].ToList() : [levels[level].MinBy(t => t.Id)!];
                if (force && fresh is not null && fresh.IsFresh(level) && levels[level + 1].Count == 0)
                {
                    return CompactionPick.Move(chosen, level + 1);
                }

                var below = OverlappingAny(levels[level + 1], chosen);
                if (!force && below.Count == 0)
                {
                    return CompactionPick.Move(chosen, level + 1);
                }

                return CompactionPick.Merge([.. chosen, .. below], level + 1);
            }
        }

        return null;
    }

    /// <summary>One round of the background work's compaction step (tests drive it when
    /// <see cref="LsmOptions.BackgroundWork"/> is off): false when no level needs work.</summary>
    internal Task<bool> CompactStepAsync(long nowUnixMs, CancellationToken cancellationToken = default)
        => CompactOnceAsync(nowUnixMs, cancellationToken);

    /// <summary>The live tables (tests check the tree's invariants).</summary>
    internal TableSet CurrentTables => _tables;

    private static List<TableReader> OverlappingAny(IReadOnlyList<TableReader> level, IReadOnlyList<TableReader> chosen)
        => level.Where(t => chosen.Any(c => Overlaps(t, c))).ToList();

    private static bool Overlaps(TableReader a, TableReader b)
        => KeyComparer.Compare(a.Meta.MinKey, b.Meta.MaxKey) <= 0 && KeyComparer.Compare(a.Meta.MaxKey, b.Meta.MinKey) >= 0;

    /// <summary>Moves <paramref name="tables"/> to <paramref name="level"/>: one durable manifest edit
    /// (each table removed and re-added at its new level, object name kept), then the new set is published.
    /// No file is written or deleted and the readers stay live. Caller holds <c>_manifestLock</c>.</summary>
    private void MoveTables(List<TableReader> tables, int level)
    {
        var edit = new Manifests.ManifestEdit();
        foreach (var t in tables)
        {
            edit.Removed.Add(t.Id);
            edit.Added.Add(_manifest.Tables[t.Id] with { Level = level });
        }

        try
        {
            _manifest.Append(edit);
        }
        catch (IO.DiskFullException e)
        {
            throw ManifestWriteFailed(e);
        }

        lock (_lock)
        {
            _tables = _tables.With(tables.Select(t => (level, t)), tables.Select(t => t.Id).ToHashSet());
            PublishState();
        }

        Interlocked.Add(ref _counters.TrivialMoves, tables.Count);
        LogMoved(_logger, tables.Count, level);
    }
}
