using System.Collections.Concurrent;
using RaftKv.Storage.Iteration;
using RaftKv.Storage.Manifests;
using RaftKv.Storage.Tables;

namespace RaftKv.Storage;

public sealed partial class LsmStore
{
    // Tables whose archive is in flight (one archive per table at a time).
    private readonly ConcurrentDictionary<long, byte> _archiving = new();

    /// <summary>
    /// Moves a local table to the object store as <paramref name="objectName"/>: upload (verified),
    /// local tail and keys file (durable), manifest edit (durable), then the local data file goes.
    /// When <see cref="LsmOptions.RemoteCompression"/> differs from <see cref="LsmOptions.Compression"/>,
    /// the table is first re-encoded with it into a temp file (same id, entries and meta; new block
    /// layout) and that file is what is uploaded and whose tail is kept; the manifest edit then
    /// replaces the table's record (remove + add, one atomic record) instead of marking it remote.
    /// Returns false when the table is not live or already remote (or being archived by another call),
    /// or stopped being live while it was uploaded (the object is then deleted, or left to the archiver's
    /// reconcile pass if that fails).
    /// </summary>
    /// <remarks>
    /// Locking: the re-encode, upload, tail and keys file are written <b>without</b> <c>_manifestLock</c>,
    /// with the table pinned by a reference (its file cannot go while it is read); only the manifest edit
    /// and the swap to the remote source take the lock, after checking the table is still live and local.
    /// So flushes and compactions never wait on the object store: an upload of a slow S3 no longer stalls
    /// writers (frozen memtables could not be flushed while an upload held the lock), and the archiver keeps
    /// pace with a load instead of taking turns with compaction.
    /// </remarks>
    public async Task<bool> ArchiveTableAsync(long tableId, string objectName, CancellationToken cancellationToken = default)
    {
        var remote = _options.RemoteStore ?? throw new InvalidOperationException("no object store is configured");
        var table = _tables.All.FirstOrDefault(t => t.Id == tableId);
        if (table is null || table.IsRemote || !_archiving.TryAdd(tableId, 0))
        {
            return false;
        }

        if (!table.TryRef())
        {
            _archiving.TryRemove(tableId, out _);
            return false; // released meanwhile: compacted away
        }

        var path = TablePath(_dir, tableId);
        // A table pointing into value files is re-encoded with its values inline: an archived table is self-contained
        // (one ranged GET per cold read), and the value files can go once no local table points into them.
        var reencode = _options.RemoteCompression != _options.Compression || table.HasBlobRefs;
        var uploadPath = reencode ? path + ".archive.tmp" : path; // *.tmp: deleted as an orphan after a crash
        TableReader? keys = null;
        var uploaded = false;
        var done = false;
        try
        {
            // 1. Upload and verify (without the manifest lock; the reference pins the file). A crash after
            //    this leaves an unreferenced object (the archiver's reconcile pass deletes it) and the local
            //    table still live.
            long size = table.Size, tailOffset = table.TailOffset;
            if (reencode)
            {
                (size, tailOffset) = await ReencodeAsync(table, uploadPath, _options.RemoteCompression, cancellationToken).ConfigureAwait(false);
            }

            await remote.UploadAsync(objectName, uploadPath, cancellationToken).ConfigureAwait(false);
            uploaded = true;

            // 2. Keep the tail (index, bloom, meta, footer) of what was uploaded locally, durably.
            var tail = new byte[size - tailOffset];
            using (var f = _fs.OpenRead(uploadPath))
            {
                f.ReadExactly(tailOffset, tail);
            }

            var tailPath = TailPath(_dir, tableId);
            var tmp = tailPath + ".tmp";
            using (var w = _fs.Create(tmp))
            {
                w.Append(tail);
                w.Sync();
            }

            _fs.Rename(tmp, tailPath);
            _fs.SyncDirectory(_dir);

            // 3. Keep the keys file locally, durably (metadata of archived keys never needs the object
            //    store; KeysFile). Written from the local table before it turns remote.
            var keysPath = KeysPath(_dir, tableId);
            await KeysFile.WriteAsync(_fs, keysPath, table, _options.BlockSize, _options.Compression, cancellationToken).ConfigureAwait(false);
            keys = TableReader.OpenLocal(_fs, keysPath, KeysFile.CacheId(tableId), _cache, KeysFile.Magic);

            // 4. Under the manifest lock: still live and local? Then the manifest edit (durable) and the swap.
            await _manifestLock.WaitAsync(cancellationToken).ConfigureAwait(false);
            try
            {
                if (_closing || !_tables.All.Contains(table) || table.IsRemote)
                {
                    return false; // compacted away, replaced by an ingest, or the store is closing
                }

                _manifest.Append(ArchiveEdit(tableId, objectName, size, tailOffset, reencode)); // durable
                done = true; // recorded: from here on the object is the table's
                SwapToRemote(table, objectName, size, tail, tailPath, keys, reencode);
                keys = null; // the archived reader's now
                _fs.Delete(path);
                _fs.SyncDirectory(_dir);
                return true;
            }
            finally
            {
                _manifestLock.Release();
            }
        }
        finally
        {
            keys?.Unref();
            if (reencode && _fs.Exists(uploadPath))
            {
                _fs.Delete(uploadPath);
            }

            if (!done && uploaded)
            {
                await DeleteUnrecordedObjectAsync(remote, objectName).ConfigureAwait(false);
            }

            // Not archived: if the table was compacted away meanwhile, this last reference deletes its file
            // together with the tail and keys file written above (OnTableReleased).
            table.Unref();
            _archiving.TryRemove(tableId, out _);
        }
    }

    /// <summary>The manifest edit of step 4 of <see cref="ArchiveTableAsync"/>: the table is remote (or, re-encoded,
    /// its record is replaced by the uploaded file's). Caller holds <c>_manifestLock</c>.</summary>
    private ManifestEdit ArchiveEdit(long tableId, string objectName, long size, long tailOffset, bool reencode)
    {
        var edit = new ManifestEdit();
        if (reencode)
        {
            var record = _manifest.Tables[tableId];
            edit.Removed.Add(tableId);
            edit.Added.Add(record with { Size = size, TailOffset = tailOffset, ObjectName = objectName });
        }
        else
        {
            edit.MadeRemote.Add((tableId, objectName));
        }

        return edit;
    }

    /// <summary>Step 5 of <see cref="ArchiveTableAsync"/>, once its manifest edit is durable: the table serves
    /// from its object (keys first: whoever sees the remote source sees the keys). Caller holds
    /// <c>_manifestLock</c> and a reference on <paramref name="table"/>.</summary>
    private void SwapToRemote(TableReader table, string objectName, long size, byte[] tail, string tailPath, TableReader keys, bool reencode)
    {
        var remote = _options.RemoteStore!;
        var tableId = table.Id;
        if (reencode)
        {
            var archived = TableReader.FromTail(tailPath, tableId, tail, size, new RemoteBlockSource(remote, objectName), _cache, cacheId: TableReader.ReencodedCacheId(tableId));
            archived.AttachKeys(keys);
            archived.OnReleased = OnTableReleased;
            var level = _tables.LevelOf(tableId);
            lock (_lock)
            {
                _tables = _tables.With([(level, archived)], new HashSet<long> { tableId });
                PublishState();
            }

            // The replaced local reader must not delete the tail and keys file, now the archived
            // reader's: its data file is deleted by the caller, and closes with its last reader.
            table.OnReleased = null;
            table.Unref();
        }
        else
        {
            table.AttachKeys(keys);
            table.SwitchSource(new RemoteBlockSource(remote, objectName));
            SignalTablesChanged(); // same set, but its local bytes changed
        }
    }

    /// <summary>Best effort: an object uploaded for a table that stopped being live before its manifest edit.
    /// If this fails, the archiver's reconcile pass deletes the object after its grace period.</summary>
    private async Task DeleteUnrecordedObjectAsync(IRemoteTableStore remote, string objectName)
    {
        try
        {
            await remote.DeleteAsync(objectName).ConfigureAwait(false);
        }
        catch (Exception e) when (e is IOException or OperationCanceledException)
        {
            LogObjectDeleteFailed(_logger, objectName, e.Message);
        }
    }

    /// <summary>Writes <paramref name="table"/>'s entries again, data blocks compressed with
    /// <paramref name="compression"/>, into <paramref name="path"/> (fsynced), keeping its creation
    /// time; returns the new file's size and tail offset.</summary>
    private async Task<(long Size, long TailOffset)> ReencodeAsync(TableReader table, string path, BlockCompression compression, CancellationToken cancellationToken)
    {
        using var writer = new TableWriter(_fs, path, _options.BlockSize, compression);
        var cursor = new TableCursor([table], [], fillCache: false);
        while (cursor.TryMoveNext(out var moved) ? moved : await cursor.MoveNextAsync(cancellationToken).ConfigureAwait(false))
        {
            writer.Add(cursor.Key, cursor.Value.Span, cursor.Version, cursor.ExpiresAtUnixMs, cursor.Tombstone);
        }

        var (meta, size) = writer.Finish(table.Meta.CreatedUnixMs);
        if (meta.EntryCount != table.Meta.EntryCount)
        {
            throw new StorageCorruptionException(path, $"re-encoded {meta.EntryCount} entries of table {table.Id}'s {table.Meta.EntryCount}");
        }

        using var f = _fs.OpenRead(path);
        var footer = new byte[TableWriter.FooterSize];
        f.ReadExactly(size - TableWriter.FooterSize, footer);
        return (size, (long)System.Buffers.Binary.BinaryPrimitives.ReadUInt64LittleEndian(footer));
    }
}
