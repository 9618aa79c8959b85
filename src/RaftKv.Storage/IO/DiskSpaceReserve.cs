namespace RaftKv.Storage.IO;

/// <summary>
/// A file of <see cref="Bytes"/> zeros kept in the data directory (<c>space.reserve</c>) so that a full
/// disk still has room for what recovery from it needs: a new Raft log segment's header, the node's
/// term and vote, a manifest record. It is released when a write hits ENOSPC and recreated (written and
/// fsynced) before writing resumes; while it cannot be recreated the disk counts as still full.
/// </summary>
/// <remarks>Thread-safe. The reserve holds no data; deleting it by hand is harmless.</remarks>
/// <param name="fs">Where the reserve file is written.</param>
/// <param name="path">The reserve file.</param>
/// <param name="bytes">Its size.</param>
/// <param name="availableBytes">Free space of the file system holding <paramref name="path"/> (null:
/// unknown). Restoring requires twice the reserve free: right after a release, the released space
/// alone would always let the reserve be recreated, and then the disk would count as no longer full.</param>
public sealed class DiskSpaceReserve(IFileSystem fs, string path, long bytes, Func<long?>? availableBytes = null)
{
    private readonly Lock _lock = new();

    public string Path => path;

    public long Bytes => bytes;

    /// <summary>Whether the reserve file is in place (as far as this process knows).</summary>
    public bool Held { get; private set; }

    /// <summary>Free bytes of the file system holding <paramref name="directory"/> (statvfs), null if unknown.</summary>
    public static long? AvailableBytesOf(string directory)
    {
        try
        {
            return new DriveInfo(directory).AvailableFreeSpace;
        }
        catch (Exception e) when (e is IOException or ArgumentException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    /// <summary>Deletes the reserve file, freeing its space; true when it was held.</summary>
    public bool Release()
    {
        lock (_lock)
        {
            var held = Held || fs.Exists(path);
            fs.Delete(path);
            Held = false;
            return held;
        }
    }

    /// <summary>(Re)creates the reserve file; false (and no file left behind) while the disk is full.</summary>
    public bool TryRestore()
    {
        lock (_lock)
        {
            if (Held && fs.Exists(path) && fs.GetLength(path) >= bytes)
            {
                return true;
            }

            if (availableBytes?.Invoke() is { } free && free < 2 * bytes)
            {
                return false;
            }

            var chunk = new byte[Math.Min(bytes, 1 << 20)];
            try
            {
                using (var file = fs.Create(path))
                {
                    for (long written = 0; written < bytes; written += chunk.Length)
                    {
                        file.Append(chunk.AsSpan(0, (int)Math.Min(chunk.Length, bytes - written)));
                    }

                    file.Sync();
                }

                var dir = System.IO.Path.GetDirectoryName(path);
                if (!string.IsNullOrEmpty(dir))
                {
                    fs.SyncDirectory(dir);
                }

                Held = true;
                return true;
            }
            catch (DiskFullException)
            {
                fs.Delete(path);
                Held = false;
                return false;
            }
        }
    }
}
