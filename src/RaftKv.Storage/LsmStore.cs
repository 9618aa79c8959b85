using System.Globalization;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using RaftKv.Storage.IO;
using RaftKv.Storage.Manifests;
using RaftKv.Storage.Memtables;
using RaftKv.Storage.Tables;

namespace RaftKv.Storage;

/// <summary>
/// The LSM engine: a mutable memtable, frozen memtables awaiting flush, and leveled SSTables
/// recorded in a manifest. Implements the replicated state machine's storage contract
/// (<see cref="IKvStore"/>) and the archiving seam (<see cref="ITieredStore"/>).
/// </summary>
/// <remarks>
/// <para>Locks: <c>_lock</c> serializes changes of <c>_mem</c>, <c>_immutables</c> and
/// <c>_tables</c> and the publication of <c>_state</c> (held only for pointer swaps, never for
/// I/O). <c>_manifestLock</c> serializes manifest edits and table-set changes made by flush,
/// compaction, archiving and ingest (held across their I/O). Readers take neither: they read the
/// published <see cref="StoreState"/> (<c>_state</c>, written with <see cref="Volatile"/> under
/// <c>_lock</c>) and <c>_appliedIndex</c> (Interlocked) and pin the state with one reference count
/// (see <see cref="AcquireState"/>).</para>
/// <para>Concurrency: one writer calls <see cref="Apply"/>/<see cref="Advance"/>/<see cref="IngestAsync"/>;
/// readers run concurrently with it and with background flush/compaction.</para>
/// </remarks>
public sealed partial class LsmStore : IKvStore, ITieredStore
{
    private readonly LsmOptions _options;
    private readonly IFileSystem _fs;
    private readonly string _dir;
    private readonly Lock _lock = new();
    private readonly SemaphoreSlim _manifestLock = new(1, 1);
    private readonly Manifest _manifest;
    private readonly BlockCache _cache;
    private readonly Blobs.BlobSet _blobs; // the directory's value files (key-value separation)
    private readonly ILogger _logger;
    private readonly CancellationTokenSource _shutdown = new();
    private readonly SemaphoreSlim _flushSignal = new(0, int.MaxValue);
    private readonly Task _background;
    private readonly StoreCounters _counters = new();
    private readonly CountingRemoteTableStore? _remoteReads;

    private Memtable _mem;
    private List<Memtable> _immutables = [];
    private TableSet _tables;
    private StoreState _state;
    private long _appliedIndex;
    private long _nextMemtableId;
    private volatile bool _closing;
    private Exception? _backgroundError;

    private LsmStore(LsmOptions options, Manifest manifest, TableSet tables, BlockCache cache, Blobs.BlobSet blobs)
    {
        _options = options;
        _fs = options.FileSystem;
        _dir = options.Directory;
        _manifest = manifest;
        _tables = tables;
        _cache = cache;
        _blobs = blobs;
        _remoteReads = options.RemoteStore as CountingRemoteTableStore;
        _logger = options.Logger ?? NullLogger.Instance;
        _appliedIndex = manifest.DurableIndex;
        _mem = new Memtable(++_nextMemtableId);
        _state = new StoreState(_mem, _immutables, _tables);
        _background = options.BackgroundWork ? Task.Run(BackgroundLoopAsync) : Task.CompletedTask;
    }

    /// <summary>The replicated logical clock used to judge expiry in background compactions.
    /// The owner (KvState) keeps it current; never the local clock.</summary>
    public long LogicalClockUnixMs { get; set; }

    public long DurableIndex => _manifest.DurableIndex;

    public long AppliedIndex => Interlocked.Read(ref _appliedIndex);

    /// <summary>Opens (creating if needed) the store in <see cref="LsmOptions.Directory"/>, verifying
    /// every live table. Throws <see cref="StorageCorruptionException"/> naming a bad file.</summary>
    public static Task<LsmStore> OpenAsync(LsmOptions options, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        return Task.Run(() => Open(options), cancellationToken);
    }

    private static LsmStore Open(LsmOptions options)
    {
        if (options.RemoteStore is { } rs and not CountingRemoteTableStore)
        {
            options = options with { RemoteStore = new CountingRemoteTableStore(rs) };
        }

        var fs = options.FileSystem;
        fs.CreateDirectory(options.Directory);
        var manifest = Manifest.Open(fs, options.Directory);
        var cache = new BlockCache(options.BlockCacheBytes);
        var blobs = new Blobs.BlobSet(fs, options.Directory);
        var opened = new List<(int, TableReader)>();
        try
        {
            foreach (var name in fs.ListFiles(options.Directory))
            {
                if (Blobs.BlobSet.ParseName(name) is { } blobId)
                {
                    blobs.Register(blobId); // referenced by the tables opened next, or an orphan (DeleteOrphans)
                }
            }

            foreach (var t in manifest.Tables.Values)
            {
                opened.Add((t.Level, OpenTable(options, cache, blobs, t)));
            }

            foreach (var (_, r) in opened)
            {
                if (r.IsRemote && r.Keys is null)
                {
                    AttachLegacyKeysFile(options, cache, r, manifest.Tables[r.Id].ObjectName!);
                }
            }
        }
        catch
        {
            foreach (var (_, r) in opened)
            {
                r.Unref();
            }

            manifest.Dispose();
            blobs.Dispose();
            throw;
        }

        var set = TableSet.Empty(options.MaxLevels).With(opened, new HashSet<long>());
        var store = new LsmStore(options, manifest, set, cache, blobs);
        foreach (var t in set.All)
        {
            t.OnReleased = store.OnTableReleased;
        }

        store.DeleteOrphans();
        return store;
    }

    private static TableReader OpenTable(LsmOptions options, BlockCache cache, Blobs.BlobSet blobs, ManifestTable t)
    {
        var fs = options.FileSystem;
        if (t.ObjectName is null)
        {
            var path = TablePath(options.Directory, t.Id);
            if (!fs.Exists(path))
            {
                throw new StorageCorruptionException(path, "table listed in the manifest is missing");
            }

            var reader = TableReader.OpenLocal(fs, path, t.Id, cache);
            if (reader.Size != t.Size)
            {
                reader.Unref();
                throw new StorageCorruptionException(path, $"size {reader.Size} differs from the manifest's {t.Size} (truncated?)");
            }

            try
            {
                reader.AttachBlobs(blobs);
            }
            catch
            {
                reader.Unref();
                throw;
            }

            return reader;
        }

        var tailPath = TailPath(options.Directory, t.Id);
        if (options.RemoteStore is null)
        {
            throw new InvalidOperationException($"table {t.Id} is archived as '{t.ObjectName}' but no object store is configured");
        }

        if (!fs.Exists(tailPath))
        {
            throw new StorageCorruptionException(tailPath, "index/bloom file of an archived table is missing");
        }

        byte[] tail;
        using (var f = fs.OpenRead(tailPath))
        {
            tail = new byte[f.Length];
            f.ReadExactly(0, tail);
        }

        var remote = TableReader.FromTail(tailPath, t.Id, tail, t.Size, new RemoteBlockSource(options.RemoteStore, t.ObjectName), cache);
        var keysPath = KeysPath(options.Directory, t.Id);
        if (fs.Exists(keysPath))
        {
            try
            {
                remote.AttachKeys(TableReader.OpenLocal(fs, keysPath, KeysFile.CacheId(t.Id), cache, KeysFile.Magic));
            }
            catch
            {
                remote.Unref();
                throw;
            }
        }

        return remote; // without a keys file: archived by an older release, see AttachLegacyKeysFile
    }

    /// <summary>
    /// Upgrade path for a table archived before keys files existed: builds its keys file from the
    /// object (reading every data block once) before the store opens, so that afterwards every
    /// archived table answers metadata locally. Needs the object store: when it is unreachable the
    /// open fails with <see cref="RemoteTierUnavailableException"/> naming the table (the node does not
    /// start half-able to apply; retry once the store is back). A one-time cost per table.
    /// </summary>
    private static void AttachLegacyKeysFile(LsmOptions options, BlockCache cache, TableReader table, string objectName)
    {
        var keysPath = KeysPath(options.Directory, table.Id);
        var logger = options.Logger ?? NullLogger.Instance;
        LogBuildingKeysFile(logger, table.Id, objectName);
        try
        {
            KeysFile.WriteAsync(options.FileSystem, keysPath, table, options.BlockSize, options.Compression, CancellationToken.None).GetAwaiter().GetResult();
        }
        catch (RemoteTierUnavailableException e)
        {
            throw new RemoteTierUnavailableException($"table {table.Id} was archived (as '{objectName}') by a release without keys files; building its keys file needs the object store, which is unreachable: {e.Message}", e);
        }

        table.AttachKeys(TableReader.OpenLocal(options.FileSystem, keysPath, KeysFile.CacheId(table.Id), cache, KeysFile.Magic));
    }

    internal static string TablePath(string dir, long id) => Path.Combine(dir, id.ToString("D6", CultureInfo.InvariantCulture) + ".sst");

    internal static string TailPath(string dir, long id) => Path.Combine(dir, id.ToString("D6", CultureInfo.InvariantCulture) + ".sstidx");

    internal static string KeysPath(string dir, long id) => Path.Combine(dir, id.ToString("D6", CultureInfo.InvariantCulture) + ".sstkeys");

    private void DeleteOrphans()
    {
        var live = _manifest.Tables.Keys.ToHashSet();
        foreach (var name in _fs.ListFiles(_dir))
        {
            var isTable = name.EndsWith(".sst", StringComparison.Ordinal) || name.EndsWith(".sstidx", StringComparison.Ordinal) || name.EndsWith(".sstkeys", StringComparison.Ordinal);
            var stem = Path.GetFileNameWithoutExtension(name);
            var parsed = long.TryParse(stem, CultureInfo.InvariantCulture, out var id);
            var archivedDataFile = parsed && name.EndsWith(".sst", StringComparison.Ordinal) && _manifest.Tables.TryGetValue(id, out var t) && t.ObjectName is not null;
            if ((isTable && parsed && !live.Contains(id)) || archivedDataFile || name.EndsWith(".tmp", StringComparison.Ordinal))
            {
                // archivedDataFile: a crash after the manifest made the table remote, before its local data file was deleted.
                _fs.Delete(Path.Combine(_dir, name));
            }
        }

        _blobs.DeleteUnreferenced(); // value files of a flush or compaction whose manifest edit was never written
    }

    /// <summary>Opens the local table just written (or linked in) as <paramref name="id"/>: its reader, holding the
    /// value files it points into, whose files are deleted when released once obsolete.</summary>
    private TableReader OpenLocalTable(string path, long id)
    {
        var reader = TableReader.OpenLocal(_fs, path, id, _cache);
        try
        {
            reader.AttachBlobs(_blobs);
        }
        catch
        {
            reader.Unref();
            throw;
        }

        reader.OnReleased = OnTableReleased;
        return reader;
    }

    private void OnTableReleased(TableReader table)
    {
        if (_closing)
        {
            return;
        }

        // Only obsolete tables reach refcount 0 while open: the manifest edit that dropped them is durable.
        _fs.Delete(TablePath(_dir, table.Id));
        _fs.Delete(TailPath(_dir, table.Id));
        _fs.Delete(KeysPath(_dir, table.Id));
        if (table.IsRemote && _options.RemoteStore is { } remote && _obsoleteObjects.TryRemove(table.Id, out var objectName))
        {
            _ = remote.DeleteAsync(objectName).ContinueWith(
                t => LogObjectDeleteFailed(_logger, objectName, t.Exception?.GetBaseException().Message ?? "unknown"),
                CancellationToken.None,
                TaskContinuationOptions.OnlyOnFaulted,
                TaskScheduler.Default);
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (_shutdown.IsCancellationRequested)
        {
            return;
        }

        await _shutdown.CancelAsync().ConfigureAwait(false);
        try
        {
            await _background.ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
        }

        await _manifestLock.WaitAsync().ConfigureAwait(false);
        try
        {
            _closing = true;
            _blobs.Dispose(); // closing: the references dropped below delete no value file
            lock (_lock)
            {
                _state.Unref();
            }

            foreach (var t in _tables.All)
            {
                t.Unref();
            }

            _manifest.Dispose();
        }
        finally
        {
            _manifestLock.Release();
        }

        _shutdown.Dispose();
    }

    /// <summary>Publishes a new <see cref="StoreState"/> from <c>_mem</c>, <c>_immutables</c> and
    /// <c>_tables</c> and drops the store's reference on the previous one. Caller holds <c>_lock</c>.</summary>
    private void PublishState()
    {
        var old = _state;
        Volatile.Write(ref _state, new StoreState(_mem, _immutables, _tables));
        if (!ReferenceEquals(old.Tables, _tables))
        {
            SignalTablesChanged();
        }

        old.Unref();
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Table {TableId} was archived as {ObjectName} without a keys file (older release): building it from the object store")]
    private static partial void LogBuildingKeysFile(ILogger logger, long tableId, string objectName);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Deleting archived object {ObjectName} failed: {Error}")]
    private static partial void LogObjectDeleteFailed(ILogger logger, string objectName, string error);

    [LoggerMessage(Level = LogLevel.Error, Message = "Background flush/compaction failed")]
    private static partial void LogBackgroundFailed(ILogger logger, Exception error);

    [LoggerMessage(Level = LogLevel.Information, Message = "Flushed memtable {MemtableId} as {Tables} table(s) ({Entries} entries, {Bytes} bytes), durable index {Index}")]
    private static partial void LogFlushed(ILogger logger, long memtableId, int tables, long entries, long bytes, long index);

    [LoggerMessage(Level = LogLevel.Information, Message = "Compacted {Inputs} tables into {Outputs} at level {Level}")]
    private static partial void LogCompacted(ILogger logger, int inputs, int outputs, int level);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Moved {Tables} table(s) to L{Level} without a rewrite")]
    private static partial void LogMoved(ILogger logger, int tables, int level);
}
