namespace RaftKv.Storage.Iteration;

/// <summary>
/// Merge of sorted cursors ordered by rank (index in the source list, newest data first): for a key
/// present in several sources the lowest-ranked one wins and the others are skipped. Tombstones are
/// passed through; callers decide what to drop.
/// </summary>
/// <remarks>
/// Picks the minimum by a linear pass over the sources, which beats a heap for the handful of
/// sources an LSM read or compaction merges (memtables, L0 tables, one concatenated cursor per
/// deeper level). One reader; not thread-safe.
/// </remarks>
internal sealed class MergingCursor : EntryCursor
{
    private readonly EntryCursor[] _sources;
    private readonly bool[] _active;
    private readonly bool[] _consumed;
    private bool _started;
    private int _current = -1;

    public MergingCursor(IReadOnlyList<EntryCursor> sources)
    {
        _sources = [.. sources];
        _active = new bool[_sources.Length];
        _consumed = new bool[_sources.Length];
    }

    /// <summary>Rank of the source the current entry comes from.</summary>
    public int CurrentSource => _current;

    public override ReadOnlySpan<byte> Key => _sources[_current].Key;

    public override ReadOnlyMemory<byte> Value => _sources[_current].Value;

    public override long Version => _sources[_current].Version;

    public override long ExpiresAtUnixMs => _sources[_current].ExpiresAtUnixMs;

    public override bool Tombstone => _sources[_current].Tombstone;

    public override Tier Tier => _sources[_current].Tier;

    public override async ValueTask<bool> MoveNextAsync(CancellationToken cancellationToken)
    {
        // Advance every source whose entry was used or shadowed by the previous step.
        for (var i = 0; i < _sources.Length; i++)
        {
            if (!_started || _consumed[i])
            {
                var move = _sources[i].MoveNextAsync(cancellationToken);
                _active[i] = move.IsCompletedSuccessfully ? move.Result : await move.ConfigureAwait(false);
                _consumed[i] = false;
            }
        }

        _started = true;
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
