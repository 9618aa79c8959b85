using RaftKv.Replication.State;

namespace RaftKv.Replication.Api;

/// <summary>A watched key range in <see cref="RangeRequest"/> conventions (range end null/empty = the single key,
/// [0x00] = every key ≥ key, otherwise [key, rangeEnd)), matched against event keys without allocating.</summary>
public readonly struct WatchRange
{
    private readonly byte[] _start;
    private readonly byte[] _end;
    private readonly bool _single;

    public WatchRange(byte[] key, byte[]? rangeEnd)
    {
        ArgumentNullException.ThrowIfNull(key);
        (_start, _end, _single) = RangeBounds.Of(key, rangeEnd);
    }

    public bool Contains(ReadOnlySpan<byte> key) => RangeBounds.Contains(_start, _end, _single, key);
}
