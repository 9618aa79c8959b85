using RaftKv.Storage.IO;
using RaftKv.Storage.Manifests;
using RaftKv.Storage.Memtables;
using RaftKv.Storage.Tables;

namespace RaftKv.Storage;

/// <remarks>
/// Checkpoint directory layout (flat, so it can be streamed file by file as a Raft snapshot):
/// <c>CHECKPOINT</c> — a manifest file (same record format as MANIFEST-*) holding one full-state
/// edit whose DurableIndex is the checkpoint's index; <c>NNNNNN.sst</c> — hard links of the live
/// local tables; <c>NNNNNN.sstidx</c> — the local tail (index, bloom, meta, footer) of archived
/// tables, whose data stays in object storage under the manifest's object name (their keys files
/// are not included: <see cref="IngestAsync"/> materializes archived tables locally). A checkpoint
/// may also hold an archived table's whole file as <c>NNNNNN.sst</c> (a self-contained backup
/// snapshot, docs/architecture.md "Backup snapshots"): ingest then uses that file, not the object.
/// </remarks>
public sealed partial class LsmStore
{
    public const string CheckpointManifestName = "CHECKPOINT";

    public async Task<long> CheckpointAsync(string directory, CancellationToken cancellationToken = default)
    {
        var (index, pin) = await CheckpointPinnedAsync(directory, cancellationToken).ConfigureAwait(false);
        pin.Dispose();
        return index;
    }

    /// <summary>The checkpoint and a <see cref="ReadView"/> of the same tables (taken under <c>_manifestLock</c>,
    /// where the published tables are the manifest's): the view's references keep every table of the checkpoint,
    /// and the object of every archived one, until it is disposed (<see cref="OnTableReleased"/> deletes them
    /// only with the last reference).</summary>
    public async Task<(long Index, IDisposable Pin)> CheckpointPinnedAsync(string directory, CancellationToken cancellationToken = default)
    {
        await FlushAsync(cancellationToken).ConfigureAwait(false);
        await _manifestLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        ReadView? pin = null;
        try
        {
            pin = AcquireView();
            _fs.CreateDirectory(directory);
            var snapshot = _manifest.Snapshot();
            foreach (var t in snapshot.Added)
            {
                if (t.ObjectName is null)
                {
                    _fs.Link(TablePath(_dir, t.Id), TablePath(directory, t.Id));
                }
                else
                {
                    _fs.Link(TailPath(_dir, t.Id), TailPath(directory, t.Id));
                }
            }

            foreach (var blobId in _tables.All.Where(t => !t.IsRemote).SelectMany(t => t.Meta.BlobRefs).Select(r => r.FileId).Distinct())
            {
                _fs.Link(_blobs.PathOf(blobId), Path.Combine(directory, Blobs.BlobSet.FileName(blobId))); // immutable, like tables
            }

            Manifest.WriteSnapshotFile(_fs, Path.Combine(directory, CheckpointManifestName), snapshot);
            _fs.SyncDirectory(directory);
            var result = (snapshot.DurableIndex ?? 0, (IDisposable)pin);
            pin = null;
            return result;
        }
        finally
        {
            pin?.Dispose();
            _manifestLock.Release();
        }
    }

    /// <summary>The file name of table <paramref name="id"/>'s whole file in a checkpoint or store directory.</summary>
    public static string TableFileName(long id) => Path.GetFileName(TablePath(string.Empty, id));

    /// <summary>The file name of archived table <paramref name="id"/>'s local tail in a checkpoint directory.</summary>
    public static string TailFileName(long id) => Path.GetFileName(TailPath(string.Empty, id));

    /// <summary>Reads a checkpoint's CHECKPOINT manifest: its tables (by id) and its durable index.</summary>
    public static (IReadOnlyList<ManifestTable> Tables, long Index) ReadCheckpoint(IFileSystem fs, string directory)
    {
        var manifestPath = Path.Combine(directory, CheckpointManifestName);
        if (!fs.Exists(manifestPath))
        {
            throw new StorageCorruptionException(manifestPath, "checkpoint has no CHECKPOINT manifest");
        }

        var state = new Dictionary<long, ManifestTable>();
        long index = 0;
        foreach (var e in Manifest.ReadEdits(fs, manifestPath))
        {
            foreach (var t in e.Added)
            {
                state[t.Id] = t;
            }

            index = Math.Max(index, e.DurableIndex ?? 0);
        }

        return ([.. state.Values.OrderBy(t => t.Id)], index);
    }

    public async Task IngestAsync(string directory, CancellationToken cancellationToken = default)
    {
        var (tables, index) = ReadCheckpoint(_fs, directory);

        await _manifestLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var records = new List<ManifestTable>();
            var readers = new List<(int, TableReader)>();
            LinkCheckpointBlobs(directory);
            try
            {
                foreach (var t in tables)
                {
                    var id = _manifest.NextFileNumber++;
                    var dest = TablePath(_dir, id);
                    if (t.ObjectName is null || _fs.Exists(TablePath(directory, t.Id)))
                    {
                        _fs.Link(TablePath(directory, t.Id), dest);
                    }
                    else
                    {
                        await MaterializeAsync(t, dest, cancellationToken).ConfigureAwait(false);
                    }

                    var reader = OpenLocalTable(dest, id);
                    readers.Add((t.Level, reader));
                    records.Add(t with { Id = id, ObjectName = null, Size = reader.Size, TailOffset = reader.TailOffset });
                }

                _fs.SyncDirectory(_dir);
            }
            catch
            {
                foreach (var (_, r) in readers)
                {
                    r.Unref(); // not in the manifest yet: deleted as orphans
                }

                _blobs.DeleteUnreferenced(); // value files linked in for them
                throw;
            }

            _manifest.Reset(records, index); // durable: from here the new state is the store
            TableSet old;
            lock (_lock)
            {
                old = _tables;
                _tables = TableSet.Empty(_options.MaxLevels).With(readers, new HashSet<long>());
                _immutables = [];
                var mem = new Memtable(++_nextMemtableId);
                mem.Advance(index);
                _mem = mem;
                Interlocked.Exchange(ref _appliedIndex, index);
                PublishState();
            }

            foreach (var t in old.All)
            {
                t.Unref();
            }
        }
        finally
        {
            _manifestLock.Release();
        }
    }

    /// <summary>The names of the value files in a checkpoint directory (<c>{id:x16}.blob</c>, linked by
    /// <see cref="CheckpointPinnedAsync"/>): part of the checkpoint like its tables, whatever copies it.</summary>
    public static IReadOnlyList<string> CheckpointBlobFiles(IFileSystem fs, string directory)
        => [.. fs.ListFiles(directory).Where(n => Blobs.BlobSet.ParseName(n) is not null).Order(StringComparer.Ordinal)];

    /// <summary>Links a checkpoint's value files into the store directory (a file already there is the same file:
    /// ids are unique and files immutable) and registers them; the ingested tables then reference them. Caller
    /// holds <c>_manifestLock</c>.</summary>
    private void LinkCheckpointBlobs(string directory)
    {
        foreach (var name in CheckpointBlobFiles(_fs, directory))
        {
            _blobs.Adopt(Blobs.BlobSet.ParseName(name)!.Value, Path.Combine(directory, name));
        }
    }

    /// <summary>Copies an archived table's object into a local file (a follower must not depend on
    /// another node's objects, whose lifetime that node controls).</summary>
    private async Task MaterializeAsync(ManifestTable t, string dest, CancellationToken cancellationToken)
    {
        var remote = _options.RemoteStore ?? throw new InvalidOperationException($"checkpoint table {t.Id} is archived as '{t.ObjectName}' but no object store is configured");
        using var file = _fs.Create(dest);
        const int chunk = 4 << 20;
        var buffer = new byte[chunk];
        for (long off = 0; off < t.Size; off += chunk)
        {
            var n = (int)Math.Min(chunk, t.Size - off);
            await remote.ReadAsync(t.ObjectName!, off, buffer.AsMemory(0, n), cancellationToken).ConfigureAwait(false);
            file.Append(buffer.AsSpan(0, n));
        }

        file.Sync();
    }
}
