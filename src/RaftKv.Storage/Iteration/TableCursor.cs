using System.Runtime.CompilerServices;
using RaftKv.Storage.Tables;

namespace RaftKv.Storage.Iteration;

/// <summary>
/// The entries of one or more tables, in order, starting at the first key ≥ start. Several tables
/// are read one after the other, so they must not overlap and must be sorted by key (one level
/// below L0). Blocks come from the block cache or are read synchronously from local files; only
/// object-tier blocks are awaited. Keys are rebuilt in one reused buffer; values are slices of the
/// cached block payloads. Without <c>fillCache</c> (one-pass readers such as compaction) blocks
/// missing from the cache are read ahead in large windows into reused buffers instead of being
/// cached (<see cref="ReadAhead"/>), and a value is only valid until the cursor moves on (the
/// caller must copy it first). Object-tier blocks are fetched many per request in both modes
/// (<see cref="LoadAndMoveAsync"/>). Values kept in value files are read through windows of those files
/// (<see cref="Blobs.BlobReadAhead"/>): the cursor meets them in the order flushes wrote them.
/// </summary>
/// <remarks>The caller keeps the tables referenced while the cursor is in use. One reader.</remarks>
internal sealed class TableCursor : EntryCursor
{
    private readonly IReadOnlyList<TableReader> _tables;
    private readonly byte[] _start;
    private int _table = -1;
    private int _blockIndex;
    private DataBlock? _block;
    private int _pos;
    private bool _seeking;
    private bool _blockPending;
    private readonly ReadAhead? _readAhead; // one-pass mode: blocks missing from the cache are read ahead, not cached
    private int _scanWindow; // scan mode: bytes of blocks the next object-store fetch reads (0 = the one block)
    private DataBlock[]? _fetched; // scan mode: the blocks of the last fetch, from block _fetchedFirst of table _fetchedTable
    private int _fetchedTable = -1;
    private int _fetchedFirst;
    private byte[] _key = new byte[64];
    private int _keyLength;
    private int _valueOffset;
    private int _valueLength;
    private long _version;
    private long _expires;
    private bool _tombstone;
    private bool _blobRef;
    private byte[]? _resolved; // the current entry's value read from its value file (reset on every move)
    private Blobs.BlobReadAhead? _blobReadAhead; // windows of the value files this cursor reads (created on the first pointer)

    public TableCursor(IReadOnlyList<TableReader> tables, byte[] start, bool fillCache = true)
    {
        _tables = tables;
        _start = start;
        _readAhead = fillCache ? null : new ReadAhead();
    }

    // Per-entry members skip tier-0 JIT: a scan or compaction is often over before tiering promotes them.
    public override ReadOnlySpan<byte> Key { [MethodImpl(MethodImplOptions.AggressiveOptimization)] get => _key.AsSpan(0, _keyLength); }

    public override ReadOnlyMemory<byte> Value { [MethodImpl(MethodImplOptions.AggressiveOptimization)] get => _blobRef ? _resolved ??= ResolveBlob() : RawValue; }

    public override ReadOnlyMemory<byte> RawValue { [MethodImpl(MethodImplOptions.AggressiveOptimization)] get => new(_block!.Payload, _valueOffset, _valueLength); }

    public override bool IsBlobRef => _blobRef;

    public override byte[] ResolveBlob() => _tables[_table].ResolveBlob(RawValue.Span, _blobReadAhead ??= new Blobs.BlobReadAhead());

    public override long Version { [MethodImpl(MethodImplOptions.AggressiveOptimization)] get => _version; }

    public override long ExpiresAtUnixMs { [MethodImpl(MethodImplOptions.AggressiveOptimization)] get => _expires; }

    public override bool Tombstone { [MethodImpl(MethodImplOptions.AggressiveOptimization)] get => _tombstone; }

    public override Tier Tier { [MethodImpl(MethodImplOptions.AggressiveOptimization)] get => _tables[_table] is { IsRemote: false, IsKeysFile: false } ? Tier.Disk : Tier.Object; }

    public override ValueTask<bool> MoveNextAsync(CancellationToken cancellationToken)
        => TryMoveNext(out var moved) ? new(moved) : LoadAndMoveAsync(cancellationToken);

    /// <summary>Moves without waiting while the blocks are cached or local; stops (returning
    /// false) positioned at a block that must come from object storage.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // hot loop: skip tier-0 code
    public override bool TryMoveNext(out bool moved)
    {
        while (true)
        {
            if (TryMoveInBlock())
            {
                moved = true;
                return true;
            }

            if (!_blockPending && !NextBlock())
            {
                moved = false;
                return true;
            }

            var table = _tables[_table];
            if ((_readAhead is null ? Fetched() ?? table.TryLoadBlockNow(_blockIndex) : table.TryLoadBlockUncached(_blockIndex, _readAhead)) is not { } block)
            {
                moved = false;
                return false; // _blockPending: LoadAndMoveAsync fetches it
            }

            Enter(block);
        }
    }

    /// <summary>The pending block if the last object-store fetch of a scan read it (else null).</summary>
    private DataBlock? Fetched()
        => _fetched is { } f && _fetchedTable == _table && _blockIndex >= _fetchedFirst && _blockIndex - _fetchedFirst < f.Length
            ? f[_blockIndex - _fetchedFirst]
            : null;

    /// <summary>Advances within the current block, skipping keys &lt; start while seeking.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // hot loop: skip tier-0 code
    private bool TryMoveInBlock()
    {
        if (_block is null)
        {
            return false;
        }

        while (_pos < _block.EntriesEnd)
        {
            _block.ReadEntry(ref _pos, ref _key, ref _keyLength, out _valueOffset, out _valueLength, out _version, out _expires, out _tombstone, out _blobRef);
            _resolved = null;
            if (_seeking && KeyComparer.Compare(Key, _start) < 0)
            {
                continue;
            }

            _seeking = false;
            return true;
        }

        return false;
    }

    /// <summary>Fetches the pending block (it must come from object storage) with the blocks after it: a one-pass
    /// reader fills its read-ahead window with one request; a scan reads a window that starts at one block and
    /// doubles with each fetch up to <see cref="ReadAhead.WindowBytes"/>, caching every block (a scan of an
    /// archived table costs a few requests, not one per block; a short one, about one block).</summary>
    private async ValueTask<bool> LoadAndMoveAsync(CancellationToken cancellationToken)
    {
        while (true)
        {
            var table = _tables[_table];
            if (_readAhead is not null)
            {
                Enter(await table.LoadBlockUncachedAsync(_blockIndex, _readAhead, cancellationToken).ConfigureAwait(false));
            }
            else
            {
                var blocks = await table.LoadBlocksAsync(_blockIndex, _scanWindow, cancellationToken).ConfigureAwait(false);
                _scanWindow = Math.Min(Math.Max(_scanWindow * 2, 2 * table.HandleOf(_blockIndex).Length), ReadAhead.WindowBytes);
                (_fetched, _fetchedTable, _fetchedFirst) = (blocks, _table, _blockIndex);
                Enter(blocks[0]);
            }

            if (TryMoveNext(out var moved))
            {
                return moved;
            }
        }
    }

    /// <summary>Positions at the next block (<c>_blockPending</c>), across tables; false at the end.</summary>
    private bool NextBlock()
    {
        if (_table >= _tables.Count)
        {
            return false;
        }

        if (_block is not null)
        {
            _blockIndex++;
        }

        if ((_table < 0 || _blockIndex >= _tables[_table].BlockCount) && !NextTable())
        {
            return false;
        }

        _blockPending = true;
        return true;
    }

    private void Enter(DataBlock block)
    {
        _block = block;
        _blockPending = false;
        _pos = _seeking ? block.SeekRestart(_start) : 0;
        _keyLength = 0;
    }

    /// <summary>Moves to the next table that has keys ≥ start, positioned at its first candidate block.</summary>
    private bool NextTable()
    {
        _block = null;
        while (++_table < _tables.Count)
        {
            var first = _tables[_table].FindFirstBlock(_start);
            if (first >= 0)
            {
                _blockIndex = first;
                _seeking = true;
                return true;
            }
        }

        return false;
    }
}
