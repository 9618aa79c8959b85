using RaftKv.Storage.Manifests;
using RaftKv.Storage.Tables;

namespace RaftKv.Storage;

public sealed partial class LsmStore
{
    public long LocalDiskBytes => _tables.All.Sum(t => t.LocalBytes);

    public IReadOnlyList<TableInfo> ListTables()
    {
        var set = _tables;
        Dictionary<long, string?> names;
        _manifestLock.Wait();
        try
        {
            names = _manifest.Tables.ToDictionary(kv => kv.Key, kv => kv.Value.ObjectName);
        }
        finally
        {
            _manifestLock.Release();
        }

        var result = new List<TableInfo>();
        for (var level = 0; level < set.Levels.Length; level++)
        {
            foreach (var t in set.Levels[level])
            {
                var name = names.GetValueOrDefault(t.Id);
                result.Add(new TableInfo(t.Id, level, t.Size, t.Meta.EntryCount, t.Meta.MinIndex, t.Meta.MaxIndex, t.Meta.CreatedUnixMs, name));
            }
        }

        return result;
    }

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
            // 1. Upload and verify. A crash after this leaves an unreferenced object (the archiver's
            //    reconcile pass deletes it) and the local table still live.
            await remote.UploadAsync(objectName, path, cancellationToken).ConfigureAwait(false);

            // 2. Keep the tail (index, bloom, meta, footer) locally, durably.
            var tail = new byte[table.Size - table.TailOffset];
            using (var f = _fs.OpenRead(path))
            {
                f.ReadExactly(table.TailOffset, tail);
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
            edit.MadeRemote.Add((tableId, objectName));
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
            table.AttachKeys(keys);
            table.SwitchSource(new RemoteBlockSource(remote, objectName));
            _fs.Delete(path);
            _fs.SyncDirectory(_dir);
            return true;
        }
        finally
        {
            _manifestLock.Release();
        }
    }

    public StoreStats GetStats()
    {
        var set = _tables;
        Memtables.Memtable mem;
        List<Memtables.Memtable> imms;
        lock (_lock)
        {
            mem = _mem;
            imms = _immutables;
        }

        var local = set.All.Where(t => !t.IsRemote).ToList();
        var remote = set.All.Where(t => t.IsRemote).ToList();
        return new StoreStats
        {
            MemtableEntries = mem.Count + imms.Sum(m => m.Count),
            MemtableBytes = mem.ApproximateBytes + imms.Sum(m => m.ApproximateBytes),
            ImmutableMemtables = imms.Count,
            DiskEntries = local.Sum(t => t.Meta.EntryCount),
            DiskBytes = local.Sum(t => t.Size),
            RemoteEntries = remote.Sum(t => t.Meta.EntryCount),
            RemoteBytes = remote.Sum(t => t.Size),
            ArchivedMetadataBytes = remote.Sum(t => t.LocalBytes),
            TablesPerLevel = set.Levels.Select(l => l.Count).ToList(),
            BytesPerLevel = set.Levels.Select(l => l.Sum(t => t.Size)).ToList(),
            CacheHits = _cache.Hits,
            CacheMisses = _cache.Misses,
            CacheBytes = _cache.Bytes,
            MemtableHits = Interlocked.Read(ref _counters.MemtableHits),
            Gets = Interlocked.Read(ref _counters.Gets),
            Flushes = Interlocked.Read(ref _counters.Flushes),
            Compactions = Interlocked.Read(ref _counters.Compactions),
            DurableIndex = DurableIndex,
            AppliedIndex = AppliedIndex,
            CompactionPending = imms.Count > 0 || Pick(set, force: false) is not null,
        };
    }
}
