namespace RaftKv.Storage.Tables;

/// <summary>
/// Sequential reads of many data blocks with one request each: what scans and one-pass readers use when
/// blocks must come from the object store, so that reading an archived table in key order costs one ranged
/// GET per window of blocks instead of one per block (a point lookup still reads one block:
/// <see cref="LoadBlockAsync"/>).
/// </summary>
public sealed partial class TableReader
{
    /// <summary>
    /// Block <paramref name="i"/> for a one-pass reader (compaction, re-encoding) that must not fill the cache:
    /// the cached block if there is one, else read through <paramref name="readAhead"/>, whose window is filled
    /// by one awaited read of up to <see cref="ReadAhead.WindowBytes"/> (the result is only valid until the
    /// read-ahead's next read). The awaited counterpart of <see cref="TryLoadBlockUncached"/>.
    /// </summary>
    internal async ValueTask<DataBlock> LoadBlockUncachedAsync(int i, ReadAhead readAhead, CancellationToken cancellationToken)
    {
        var h = _index[i];
        if (_cache.TryPeek(CacheId, h.Offset) is { } cached)
        {
            return cached;
        }

        var source = AcquireSource();
        try
        {
            await readAhead.FillAsync(CacheId, source, h.Offset, h.Length, TailOffset, cancellationToken).ConfigureAwait(false);
            var buffer = readAhead.TryRead(CacheId, source, h.Offset, h.Length, TailOffset)
                ?? throw new InvalidOperationException("a filled read-ahead window did not hold its block");
            return BlockCodec.DecodeDataBlock(buffer, h.Length, _path, h.Offset);
        }
        finally
        {
            source.Release();
        }
    }

    /// <summary>
    /// Blocks <paramref name="i"/>, <paramref name="i"/> + 1, … for a scan: block <paramref name="i"/> read
    /// together with the blocks after it, up to <paramref name="windowBytes"/> in all (at least block
    /// <paramref name="i"/>; it stops before the first block already cached), with one read, each cached (counted
    /// as promoted when the source is the object store) and returned, so the scan needs no second read of them
    /// even when a small cache has evicted them meanwhile. A scan grows its window as it goes
    /// (<see cref="Iteration.TableCursor"/>): a short scan reads about what it needs, a long one a few requests
    /// per table.
    /// </summary>
    internal async ValueTask<DataBlock[]> LoadBlocksAsync(int i, int windowBytes, CancellationToken cancellationToken)
    {
        var first = _index[i];
        if (_cache.TryGet(CacheId, first.Offset) is { } cached)
        {
            return [cached];
        }

        var last = i;
        while (last + 1 < _index.Length
               && _index[last + 1].Offset + _index[last + 1].Length - first.Offset <= windowBytes
               && _cache.TryPeek(CacheId, _index[last + 1].Offset) is null)
        {
            last++;
        }

        if (last == i)
        {
            return [await LoadBlockAsync(i, cancellationToken).ConfigureAwait(false)];
        }

        var end = _index[last].Offset + _index[last].Length;
        var source = AcquireSource();
        byte[] raw;
        bool remote;
        try
        {
            raw = await source.ReadAsync(first.Offset, (int)(end - first.Offset), cancellationToken).ConfigureAwait(false);
            remote = source.IsRemote;
        }
        finally
        {
            source.Release();
        }

        var blocks = new DataBlock[last - i + 1];
        for (var b = i; b <= last; b++)
        {
            var h = _index[b];
            var block = BlockCodec.DecodeDataBlock(raw.AsSpan((int)(h.Offset - first.Offset), h.Length).ToArray(), _path, h.Offset);
            _cache.Add(CacheId, h.Offset, block, fromObjectStore: remote);
            blocks[b - i] = block;
        }

        return blocks;
    }
}
