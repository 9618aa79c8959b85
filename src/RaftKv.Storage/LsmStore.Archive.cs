using RaftKv.Storage.Iteration;
using RaftKv.Storage.Manifests;
using RaftKv.Storage.Tables;

namespace RaftKv.Storage;

public sealed partial class LsmStore
{
    /// <summary>
    /// Moves a local table to the object store as <paramref name="objectName"/>: upload (verified),
    /// local tail and keys file (durable), manifest edit (durable), then the local data file goes.
    /// When <see cref="LsmOptions.RemoteCompression"/> differs from <see cref="LsmOptions.Compression"/>,
    /// the table is first re-encoded with it into a temp file (same id, entries and meta; new block
    /// layout) and that file is what is uploaded and whose tail is kept; the manifest edit then
    /// replaces the table's record (remove + add, one atomic record) instead of marking it remote.
    /// Returns false when the table is not live or already remote.
    /// </summary>
    public async Task<bool> ArchiveTableAsync(long tableId, string objectName, CancellationToken cancellationToken = default)
    {
        var remote = _options.RemoteStore ?? throw new InvalidOperationException("no object store is configured");
        await _manifestLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var table = _tables.All.FirstOrDefault(t => t.Id == tableId);
            if (table is null || table.IsRemote)
            {
                return false;
            }

            var path = TablePath(_dir, tableId);
            var reencode = _options.RemoteCompression != _options.Compression;
            var uploadPath = reencode ? path + ".archive.tmp" : path; // *.tmp: deleted as an orphan after a crash
            long size = table.Size, tailOffset = table.TailOffset;
            try
            {
                if (reencode)
                {
                    (size, tailOffset) = await ReencodeAsync(table, uploadPath, _options.RemoteCompression, cancellationToken).ConfigureAwait(false);
                }

                // 1. Upload and verify. A crash after this leaves an unreferenced object (the archiver's
                //    reconcile pass deletes it) and the local table still live.
                await remote.UploadAsync(objectName, uploadPath, cancellationToken).ConfigureAwait(false);

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
                var keys = TableReader.OpenLocal(_fs, keysPath, KeysFile.CacheId(tableId), _cache, KeysFile.Magic);

                // 4. Manifest edit: the table is remote from now on (durable).
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

                try
                {
                    _manifest.Append(edit);
                }
                catch
                {
                    keys.Unref();
                    throw;
                }

                // 5. Serve from the object (keys first: whoever sees the remote source sees the keys),
                //    then drop the local data file.
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

                    // The replaced local reader must not delete the tail and keys file, now the
                    // archived reader's: its data file is deleted below, and closes with its last reader.
                    table.OnReleased = null;
                    table.Unref();
                }
                else
                {
                    table.AttachKeys(keys);
                    table.SwitchSource(new RemoteBlockSource(remote, objectName));
                }

                _fs.Delete(path);
                _fs.SyncDirectory(_dir);
                return true;
            }
            finally
            {
                if (reencode && _fs.Exists(uploadPath))
                {
                    _fs.Delete(uploadPath);
                }
            }
        }
        finally
        {
            _manifestLock.Release();
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
