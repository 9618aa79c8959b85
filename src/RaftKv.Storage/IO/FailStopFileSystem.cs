namespace RaftKv.Storage.IO;

/// <summary>
/// Wraps a file system with the fail-stop rule for fatal storage errors; every file a node writes goes
/// through one (the node wraps <c>KvNodeOptions.FileSystem</c>), so no layer can swallow such an error.
/// </summary>
/// <remarks>
/// <para><b>The rule</b> (docs/operations.md, "Fatal storage errors"):</para>
/// <list type="bullet">
/// <item>Out of space while <i>writing</i> — <see cref="DiskFullException"/> from <see cref="IFileSystem.Create"/>,
/// <see cref="IWritableFile.Append"/>, or the write of buffered data that <see cref="IWritableFile.Sync"/>
/// does before its fsync — is recoverable: nothing of it was fsynced and nothing earlier was lost, so it
/// passes through to the caller's disk-full path (retry once space is back).</item>
/// <item>Any failure of <b>fsync itself</b> (<see cref="FsyncFailedException"/> from <see cref="IWritableFile.Sync"/>,
/// any error of <see cref="IFileSystem.SyncDirectory"/>), whatever the errno — EIO, and ENOSPC too — is
/// fatal: the kernel may already have dropped the dirty pages, and a retried fsync can report success
/// for data that never reached the disk.</item>
/// <item>Any other I/O error writing data (EIO, EROFS, ... from <see cref="IWritableFile.Append"/> or the
/// write inside <see cref="IWritableFile.Sync"/>) is fatal too: the file's durable content is unknown.</item>
/// </list>
/// <para>A fatal error is handed to <see cref="StorageFailStop.Fail"/> (logged, the handler called once)
/// on the thread that saw it, and surfaces as <see cref="StorageFailStopException"/>. From then on every
/// mutating call — create, write, fsync, rename, link, delete — throws without reaching the inner file
/// system: the on-disk state is frozen as a crash would leave it, and recovery after the restart is
/// crash recovery. Reads still pass.</para>
/// <para>Other errors (a missing file, ENOSPC from a create, a failed rename) pass through unchanged.</para>
/// </remarks>
public sealed class FailStopFileSystem(IFileSystem inner, StorageFailStop failStop) : IFileSystem
{
    public IFileSystem Inner => inner;

    public StorageFailStop FailStop => failStop;

    /// <summary>
    /// For an error a layer above judges fatal although the file system could not (e.g. ENOSPC in the
    /// middle of the manifest, after which no record may follow): fail-stops the node that owns
    /// <paramref name="fs"/> and returns the exception to throw; null when <paramref name="fs"/> is not
    /// fail-stop wrapped (a store used on its own). Never fails twice for the same fault.
    /// </summary>
    public static StorageFailStopException? TryFail(IFileSystem fs, StorageFault fault)
    {
        ArgumentNullException.ThrowIfNull(fault);
        return fault.Cause is StorageFailStopException already
            ? already
            : fs is FailStopFileSystem f ? f.FailStop.Fail(fault) : null;
    }

    /// <summary>The file system under any <see cref="FailStopFileSystem"/> wrapping.</summary>
    public static IFileSystem Unwrap(IFileSystem fs) => fs is FailStopFileSystem f ? Unwrap(f.Inner) : fs;

    public IWritableFile Create(string path)
    {
        failStop.ThrowIfFailed();
        return new Writer(inner.Create(path), path, failStop);
    }

    public IWritableFile OpenForOverwrite(string path)
    {
        failStop.ThrowIfFailed();
        return new Writer(inner.OpenForOverwrite(path), path, failStop);
    }

    public IReadableFile OpenRead(string path) => inner.OpenRead(path);

    public bool Exists(string path) => inner.Exists(path);

    public long GetLength(string path) => inner.GetLength(path);

    public void Rename(string source, string destination)
    {
        failStop.ThrowIfFailed();
        inner.Rename(source, destination);
    }

    public void Delete(string path)
    {
        failStop.ThrowIfFailed();
        inner.Delete(path);
    }

    public void CreateDirectory(string path)
    {
        failStop.ThrowIfFailed();
        inner.CreateDirectory(path);
    }

    public void DeleteDirectory(string path)
    {
        failStop.ThrowIfFailed();
        inner.DeleteDirectory(path);
    }

    public IReadOnlyList<string> ListFiles(string directory) => inner.ListFiles(directory);

    public bool DirectoryExists(string path) => inner.DirectoryExists(path);

    public IReadOnlyList<string> ListDirectories(string directory) => inner.ListDirectories(directory);

    public void RenameDirectory(string source, string destination)
    {
        failStop.ThrowIfFailed();
        inner.RenameDirectory(source, destination);
    }

    public void SyncDirectory(string directory)
    {
        failStop.ThrowIfFailed();
        try
        {
            inner.SyncDirectory(directory);
        }
        catch (IOException e)
        {
            throw failStop.Fail(new StorageFault(directory, StorageOperation.DirectoryFsync, e));
        }
    }

    public void Link(string source, string destination)
    {
        failStop.ThrowIfFailed();
        inner.Link(source, destination);
    }

    public IDisposable LockDirectory(string directory) => inner.LockDirectory(directory); // a refusal is not a storage fault

    private sealed class Writer(IWritableFile file, string path, StorageFailStop failStop) : IWritableFile
    {
        public long Length => file.Length;

        public void Append(ReadOnlySpan<byte> data)
        {
            failStop.ThrowIfFailed();
            try
            {
                file.Append(data);
            }
            catch (IOException e) when (e is not DiskFullException)
            {
                throw failStop.Fail(new StorageFault(path, StorageOperation.Write, e));
            }
        }

        public void Sync()
        {
            failStop.ThrowIfFailed();
            try
            {
                file.Sync();
            }
            catch (IOException e) when (e is not DiskFullException)
            {
                // FsyncFailedException: fsync itself. Anything else: the write before it (not ENOSPC), or
                // an implementation that cannot tell the two apart — fatal either way.
                throw failStop.Fail(new StorageFault(path, e is FsyncFailedException ? StorageOperation.Fsync : StorageOperation.Write, e));
            }
        }

        public void Dispose() => file.Dispose();
    }
}
