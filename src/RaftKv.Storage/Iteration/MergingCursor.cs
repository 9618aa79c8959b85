using System.Runtime.CompilerServices;

namespace RaftKv.Storage.Iteration;

/// <summary>
/// Merge of sorted cursors ordered by rank (index in the source list, newest data first): for a key
/// present in several sources the lowest-ranked one wins and the others are skipped. Tombstones are
/// passed through; callers decide what to drop.
/// </summary>
/// <remarks>
/// Picks the minimum by a linear pass over the sources, which beats a heap for the handful of
/// sources an LSM read or compaction merges (memtables, L0 tables, one concatenated cursor per
/// deeper level). <see cref="TryMoveNext"/> merges synchronously while every source can move
/// without awaited I/O; a source that cannot is left for <see cref="MoveNextAsync"/> (sources
/// already advanced stay advanced: <c>_consumed</c> records which ones still have to move). One
/// reader; not thread-safe.
/// </remarks>
internal sealed class MergingCursor : EntryCursor
{
    private readonly EntryCursor[] _sources;
    private readonly bool[] _active;
    private readonly bool[] _consumed;
    private int _current = -1;

    public MergingCursor(IReadOnlyList<EntryCursor> sources)
    {
        _sources = [.. sources];
        _active = new bool[_sources.Length];
        _consumed = new bool[_sources.Length];
        _consumed.AsSpan().Fill(true); // every source must move to its first entry
    }

    /// <summary>Rank of the source the current entry comes from.</summary>
    public int CurrentSource => _current;

    // Per-entry members skip tier-0 JIT: a scan or compaction is often over before tiering promotes them.
    public override ReadOnlySpan<byte> Key { [MethodImpl(MethodImplOptions.AggressiveOptimization)] get => _sources[_current].Key; }

    public override ReadOnlyMemory<byte> Value { [MethodImpl(MethodImplOptions.AggressiveOptimization)] get => _sources[_current].Value; }

    public override ReadOnlyMemory<byte> RawValue => _sources[_current].RawValue;

    public override bool IsBlobRef => _sources[_current].IsBlobRef;

    public override byte[] ResolveBlob() => _sources[_current].ResolveBlob();

    public override long Version { [MethodImpl(MethodImplOptions.AggressiveOptimization)] get => _sources[_current].Version; }

    public override long ExpiresAtUnixMs { [MethodImpl(MethodImplOptions.AggressiveOptimization)] get => _sources[_current].ExpiresAtUnixMs; }

    public override bool Tombstone { [MethodImpl(MethodImplOptions.AggressiveOptimization)] get => _sources[_current].Tombstone; }

    public override Tier Tier { [MethodImpl(MethodImplOptions.AggressiveOptimization)] get => _sources[_current].Tier; }

    public override async ValueTask<bool> MoveNextAsync(CancellationToken cancellationToken)
    {
        // Advance every source whose entry was used or shadowed by the previous step.
        for (var i = 0; i < _sources.Length; i++)
        {
            if (_consumed[i])
            {
                if (!_sources[i].TryMoveNext(out var moved))
                {
                    moved = await _sources[i].MoveNextAsync(cancellationToken).ConfigureAwait(false);
                }

                _active[i] = moved;
                _consumed[i] = false;
            }
        }

        return Pick();
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // hot loop: skip tier-0 code
    public override bool TryMoveNext(out bool moved)
    {
        for (var i = 0; i < _sources.Length; i++)
        {
            if (_consumed[i])
            {
                if (!_sources[i].TryMoveNext(out var sourceMoved))
                {
                    moved = false;
                    return false; // sources before i have moved; MoveNextAsync goes on from i
                }

                _active[i] = sourceMoved;
                _consumed[i] = false;
            }
        }

        moved = Pick();
        return true;
    }

    /// <summary>Chooses the smallest key among the active sources (the lowest rank on ties) and
    /// marks it and every shadowed source consumed.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // hot loop: skip tier-0 code
    private bool Pick()
    {
        _current = -1;
        for (var i = 0; i < _sources.Length; i++)
        {
            if (!_active[i])
            {
                continue;
            }

            if (_current < 0)
            {
                _current = i;
                _consumed[i] = true;
                continue;
            }

            var c = KeyComparer.Compare(_sources[i].Key, _sources[_current].Key);
            if (c < 0)
            {
                // A new minimum: sources marked for the old one are not consumed after all.
                for (var j = 0; j < i; j++)
                {
                    _consumed[j] = false;
                }

                _current = i;
                _consumed[i] = true;
            }
            else if (c == 0)
            {
                _consumed[i] = true; // same key in an older source: shadowed
            }
        }

        return _current >= 0;
    }
}
