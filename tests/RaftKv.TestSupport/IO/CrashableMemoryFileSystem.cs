using RaftKv.Storage.IO;

namespace RaftKv.TestSupport.IO;

/// <summary>
/// An in-memory file system that models POSIX durability so tests can cut the power at any point:
/// <see cref="Crash"/> keeps only file contents that were <see cref="IWritableFile.Sync">synced</see>
/// and directory entries whose parent directory was <see cref="SyncDirectory">synced</see>.
/// Everything else (unsynced appends, renames, creates, deletes) is lost.
/// </summary>
/// <remarks>
/// Directories are modelled by path: a file's durability is that of its own entry (its parent synced
/// after the create/rename). A directory rename or delete becomes durable, for the whole subtree, when
/// its parent is synced; until then a crash keeps the subtree's durable files at the old path.
/// Simplification: a directory's own creation needs no sync (its synced files survive a crash).
/// </remarks>
/// <remarks>All state is guarded by <c>_lock</c>; every member is thread-safe.</remarks>
public sealed class CrashableMemoryFileSystem : IFileSystem
{
    private readonly Lock _lock = new();

    /// <summary>Directories whose lock is held (<see cref="LockDirectory"/>) → the holder; guarded by <see cref="_lock"/>.</summary>
    private readonly Dictionary<string, object> _locked = new(StringComparer.Ordinal);

    // path -> inode; the volatile namespace and the durable one.
    private Dictionary<string, Inode> _files = new(StringComparer.Ordinal);
    private readonly Dictionary<string, Inode> _durableFiles = new(StringComparer.Ordinal);
    private readonly HashSet<string> _directories = new(StringComparer.Ordinal);
    private readonly Dictionary<string, long> _reads = new(StringComparer.Ordinal); // path -> ReadExactly calls

    // Directory renames (Source, Destination) and deletes (Source, null) not yet made durable, in order.
    private readonly List<(string Parent, string Source, string? Destination)> _pendingDirectoryOps = [];

    /// <summary>When set, called with an operation name ("sync", "rename", "syncdir", "create", "open", "append")
    /// and its path (the file being written, the directory synced, the rename's destination) before it
    /// happens; throw from it to simulate a crash or an I/O error (e.g. <see cref="DiskFullException"/>,
    /// or <see cref="FsyncFailedException"/> for a failed fsync) at that point.</summary>
    public Action<string, string>? BeforeOperation { get; set; }

    /// <summary>Positional reads so far (<see cref="IReadableFile.ReadExactly"/> calls) of the files whose path
    /// <paramref name="matches"/>: lets a test count the I/O a read path does.</summary>
    public long ReadsOf(Func<string, bool> matches)
    {
        lock (_lock)
        {
            return _reads.Where(r => matches(r.Key)).Sum(r => r.Value);
        }
    }

    public IWritableFile Create(string path)
    {
        path = Normalize(path);
        BeforeOperation?.Invoke("create", path);
        lock (_lock)
        {
            var inode = new Inode();
            _files[path] = inode;
            return new Writer(this, inode, path);
        }
    }

    public IWritableFile OpenForOverwrite(string path)
    {
        path = Normalize(path);
        BeforeOperation?.Invoke("open", path);
        lock (_lock)
        {
            return new Writer(this, _files.TryGetValue(path, out var inode) ? inode : throw new FileNotFoundException($"no such file '{path}'", path), path);
        }
    }

    public IReadableFile OpenRead(string path)
    {
        path = Normalize(path);
        lock (_lock)
        {
            if (!_files.TryGetValue(path, out var inode))
            {
                throw new FileNotFoundException($"no such file '{path}'", path);
            }

            return new Reader(inode.Current.ToArray(), path, this);
        }
    }

    public bool Exists(string path)
    {
        lock (_lock)
        {
            return _files.ContainsKey(Normalize(path));
        }
    }

    public long GetLength(string path)
    {
        lock (_lock)
        {
            return _files.TryGetValue(Normalize(path), out var inode)
                ? inode.Current.Count
                : throw new FileNotFoundException($"no such file '{path}'", path);
        }
    }

    public void Rename(string source, string destination)
    {
        source = Normalize(source);
        destination = Normalize(destination);
        BeforeOperation?.Invoke("rename", destination);
        lock (_lock)
        {
            if (!_files.Remove(source, out var inode))
            {
                throw new FileNotFoundException($"no such file '{source}'", source);
            }

            _files[destination] = inode;
        }
    }

    public void Delete(string path)
    {
        lock (_lock)
        {
            _files.Remove(Normalize(path));
        }
    }

    public void CreateDirectory(string path)
    {
        lock (_lock)
        {
            _directories.Add(Normalize(path));
        }
    }

    public void DeleteDirectory(string path)
    {
        path = Normalize(path);
        BeforeOperation?.Invoke("deletedir", path);
        var prefix = path + "/";
        lock (_lock)
        {
            if (!DirectoryExistsLocked(path))
            {
                return;
            }

            foreach (var key in _files.Keys.Where(k => k.StartsWith(prefix, StringComparison.Ordinal)).ToList())
            {
                _files.Remove(key);
            }

            _directories.RemoveWhere(d => d == path || d.StartsWith(prefix, StringComparison.Ordinal));
            _pendingDirectoryOps.Add((ParentOf(path), path, null));
        }
    }

    public bool DirectoryExists(string path)
    {
        path = Normalize(path);
        lock (_lock)
        {
            return DirectoryExistsLocked(path);
        }
    }

    public IReadOnlyList<string> ListDirectories(string directory)
    {
        var prefix = Normalize(directory) + "/";
        lock (_lock)
        {
            var names = new SortedSet<string>(StringComparer.Ordinal);
            foreach (var path in _directories.Concat(_files.Keys))
            {
                if (!path.StartsWith(prefix, StringComparison.Ordinal))
                {
                    continue;
                }

                var rest = path[prefix.Length..];
                var slash = rest.IndexOf('/', StringComparison.Ordinal);
                if (slash > 0)
                {
                    names.Add(rest[..slash]);
                }
                else if (_directories.Contains(path))
                {
                    names.Add(rest);
                }
            }

            return [.. names];
        }
    }

    public void RenameDirectory(string source, string destination)
    {
        source = Normalize(source);
        destination = Normalize(destination);
        BeforeOperation?.Invoke("renamedir", destination);
        lock (_lock)
        {
            if (!DirectoryExistsLocked(source))
            {
                throw new DirectoryNotFoundException($"no such directory '{source}'");
            }

            if (DirectoryExistsLocked(destination) || _files.ContainsKey(destination))
            {
                throw new IOException($"'{destination}' already exists");
            }

            _files = MovePrefix(_files, source, destination);
            foreach (var dir in _directories.Where(d => d == source || d.StartsWith(source + "/", StringComparison.Ordinal)).ToList())
            {
                _directories.Remove(dir);
                _directories.Add(destination + dir[source.Length..]);
            }

            _pendingDirectoryOps.Add((ParentOf(destination), source, destination));
        }
    }

    public IReadOnlyList<string> ListFiles(string directory)
    {
        var dir = Normalize(directory);
        lock (_lock)
        {
            return _files.Keys.Where(k => ParentOf(k) == dir).Select(k => k[(dir.Length + 1)..]).ToList();
        }
    }

    public void SyncDirectory(string directory)
    {
        var dir = Normalize(directory);
        BeforeOperation?.Invoke("syncdir", dir);
        lock (_lock)
        {
            foreach (var key in _durableFiles.Keys.Where(k => ParentOf(k) == dir).ToList())
            {
                _durableFiles.Remove(key);
            }

            foreach (var (key, inode) in _files)
            {
                if (ParentOf(key) == dir)
                {
                    _durableFiles[key] = inode;
                }
            }

            // Deleted, then created again and synced: its durable entries are the new ones (just set).
            _pendingDirectoryOps.RemoveAll(op => op.Destination is null && op.Source == dir);

            foreach (var (parent, source, destination) in _pendingDirectoryOps.Where(op => op.Parent == dir).ToList())
            {
                var moved = MovePrefix(_durableFiles, source, destination);
                _durableFiles.Clear();
                foreach (var (key, inode) in moved)
                {
                    _durableFiles[key] = inode;
                }

                _pendingDirectoryOps.Remove((parent, source, destination));
            }
        }
    }

    public IDisposable LockDirectory(string directory)
    {
        var held = new Held(this, directory);
        lock (_lock)
        {
            if (!_locked.TryAdd(directory, held))
            {
                throw new DirectoryLockedException(directory);
            }
        }

        return held;
    }

    private sealed class Held(CrashableMemoryFileSystem fs, string directory) : IDisposable
    {
        private int _released;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _released, 1) == 0)
            {
                lock (fs._lock)
                {
                    if (fs._locked.TryGetValue(directory, out var holder) && holder == this)
                    {
                        fs._locked.Remove(directory); // not a lock taken after a crash released this one
                    }
                }
            }
        }
    }

    public void Link(string source, string destination)
    {
        lock (_lock)
        {
            _files[Normalize(destination)] = _files.TryGetValue(Normalize(source), out var inode)
                ? inode
                : throw new FileNotFoundException($"no such file '{source}'", source);
        }
    }

    /// <summary>Simulates a power cut: only durable contents and durable directory entries survive.</summary>
    public void Crash()
    {
        lock (_lock)
        {
            _locked.Clear(); // the process died: the OS released its locks
            _files = new Dictionary<string, Inode>(_durableFiles, StringComparer.Ordinal);
            _pendingDirectoryOps.Clear();
            foreach (var inode in _files.Values.Distinct())
            {
                inode.Current = [.. inode.Durable];
            }
        }
    }

    /// <summary>Flips one byte of a file in place (both volatile and durable) — for corruption tests.</summary>
    public void Corrupt(string path, long offset)
    {
        lock (_lock)
        {
            var inode = _files[Normalize(path)];
            inode.Current[(int)offset] ^= 0xFF;
            if (offset < inode.Durable.Length)
            {
                inode.Durable[offset] ^= 0xFF;
            }
        }
    }

    /// <summary>
    /// Sets <paramref name="length"/> bytes at <paramref name="offset"/> to zero, extending the file if
    /// needed, and makes the whole file durable as it then is — for torn-write tests: a crash can leave
    /// the sectors of an unfinished write unwritten (read as zeros) after the file size reached the disk.
    /// </summary>
    public void Zero(string path, long offset, long length)
    {
        lock (_lock)
        {
            var inode = _files[Normalize(path)];
            while (inode.Current.Count < offset + length)
            {
                inode.Current.Add(0);
            }

            for (var i = offset; i < offset + length; i++)
            {
                inode.Current[(int)i] = 0;
            }

            inode.Durable = inode.Current.ToArray();
        }
    }

    /// <summary>Truncates a file (both volatile and durable) — for corruption tests.</summary>
    public void Truncate(string path, long length)
    {
        lock (_lock)
        {
            var inode = _files[Normalize(path)];
            inode.Current.RemoveRange((int)length, inode.Current.Count - (int)length);
            inode.Durable = inode.Current.ToArray();
        }
    }

    private bool DirectoryExistsLocked(string path)
        => _directories.Contains(path) || _files.Keys.Any(k => k.StartsWith(path + "/", StringComparison.Ordinal));

    /// <summary>
    /// The files under <paramref name="source"/> moved under <paramref name="destination"/> (null: dropped);
    /// whatever was under <paramref name="destination"/> before is replaced.
    /// </summary>
    private static Dictionary<string, Inode> MovePrefix(Dictionary<string, Inode> files, string source, string? destination)
    {
        var from = source + "/";
        var to = destination is null ? null : destination + "/";
        var result = new Dictionary<string, Inode>(StringComparer.Ordinal);
        foreach (var (key, inode) in files)
        {
            if (to is not null && key.StartsWith(to, StringComparison.Ordinal))
            {
                continue;
            }

            if (key.StartsWith(from, StringComparison.Ordinal))
            {
                if (to is not null)
                {
                    result[to + key[from.Length..]] = inode;
                }

                continue;
            }

            result[key] = inode;
        }

        return result;
    }

    private static string Normalize(string path) => path.Replace('\\', '/').TrimEnd('/');

    private static string ParentOf(string path)
    {
        var i = path.LastIndexOf('/');
        return i < 0 ? string.Empty : path[..i];
    }

    private sealed class Inode
    {
        public List<byte> Current { get; set; } = [];

        public byte[] Durable { get; set; } = [];
    }

    /// <summary>Writes from offset 0: over the bytes already there (a file opened for overwrite), then past the end.</summary>
    private sealed class Writer(CrashableMemoryFileSystem fs, Inode inode, string path) : IWritableFile
    {
        private long _position; // guarded by fs._lock

        public long Length
        {
            get
            {
                lock (fs._lock)
                {
                    return _position;
                }
            }
        }

        public void Append(ReadOnlySpan<byte> data)
        {
            fs.BeforeOperation?.Invoke("append", path);
            lock (fs._lock)
            {
                var overwrite = (int)Math.Min(data.Length, Math.Max(0, inode.Current.Count - _position));
                for (var i = 0; i < overwrite; i++)
                {
                    inode.Current[(int)_position + i] = data[i];
                }

                inode.Current.AddRange(data[overwrite..]);
                _position += data.Length;
            }
        }

        public void Sync()
        {
            fs.BeforeOperation?.Invoke("sync", path);
            lock (fs._lock)
            {
                inode.Durable = inode.Current.ToArray();
            }
        }

        public void Dispose()
        {
        }
    }

    private sealed class Reader(byte[] data, string path, CrashableMemoryFileSystem fs) : IReadableFile
    {
        public long Length => data.Length;

        public void ReadExactly(long offset, Span<byte> buffer)
        {
            lock (fs._lock)
            {
                fs._reads[path] = fs._reads.GetValueOrDefault(path) + 1;
            }

            if (offset < 0 || offset + buffer.Length > data.Length)
            {
                throw new EndOfStreamException($"read of {buffer.Length} bytes at {offset} past end ({data.Length})");
            }

            data.AsSpan((int)offset, buffer.Length).CopyTo(buffer);
        }

        public void Dispose()
        {
        }
    }
}
