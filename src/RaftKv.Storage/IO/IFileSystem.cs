namespace RaftKv.Storage.IO;

/// <summary>
/// Every file operation the engine performs. Two implementations: <see cref="PhysicalFileSystem"/>
/// (real files, real fsync) and the tests' <c>RaftKv.TestSupport.IO.CrashableMemoryFileSystem</c> (keeps only what was made
/// durable, so tests can simulate a power cut at any point).
/// </summary>
/// <remarks>
/// Durability model (POSIX): file contents are durable only after <see cref="IWritableFile.Sync"/>;
/// a created, renamed or deleted directory entry is durable only after <see cref="SyncDirectory"/>
/// of its parent. Implementations are thread-safe.
/// </remarks>
public interface IFileSystem
{
    /// <summary>Creates (or truncates) a file for appending.</summary>
    IWritableFile Create(string path);

    /// <summary>
    /// Opens an existing file for writing from its start without truncating it: what is appended replaces
    /// its bytes in place (and extends the file past its end); <see cref="IWritableFile.Length"/> counts the
    /// bytes written through this handle, not the file's size. For a file whose space was written (zeros)
    /// and synced ahead (a preallocated Raft log segment): overwriting allocated blocks changes no metadata
    /// the data needs, so <see cref="IWritableFile.Sync"/> writes data blocks only. Throws
    /// <see cref="FileNotFoundException"/>.
    /// </summary>
    IWritableFile OpenForOverwrite(string path);

    /// <summary>Opens an existing file for positional reads. Throws <see cref="FileNotFoundException"/>.</summary>
    IReadableFile OpenRead(string path);

    bool Exists(string path);

    long GetLength(string path);

    /// <summary>Atomically replaces <paramref name="destination"/> (not durable until the directory is synced).</summary>
    void Rename(string source, string destination);

    /// <summary>Deletes a file; a missing file is not an error.</summary>
    void Delete(string path);

    void CreateDirectory(string path);

    /// <summary>Deletes a directory and everything below it; missing is not an error (durable once the parent is synced).</summary>
    void DeleteDirectory(string path);

    /// <summary>File names (not paths) directly in <paramref name="directory"/>.</summary>
    IReadOnlyList<string> ListFiles(string directory);

    bool DirectoryExists(string path);

    /// <summary>Directory names (not paths) directly in <paramref name="directory"/>; none when it is missing.</summary>
    IReadOnlyList<string> ListDirectories(string directory);

    /// <summary>
    /// Atomically renames a directory with everything below it; <paramref name="destination"/> must not
    /// exist. Not durable until the parent directory is synced (<see cref="SyncDirectory"/>).
    /// </summary>
    void RenameDirectory(string source, string destination);

    /// <summary>Makes the directory's entries (creates, renames, deletes) durable.</summary>
    void SyncDirectory(string directory);

    /// <summary>Hard-links <paramref name="source"/> as <paramref name="destination"/> (copies where links are impossible).</summary>
    void Link(string source, string destination);

    /// <summary>
    /// Takes <paramref name="directory"/>'s exclusive lock (a <c>LOCK</c> file in it, held with the OS's advisory
    /// file lock) until the returned handle is disposed or the process ends — a crash releases it, so a restarted
    /// process takes it again. While it is held, another attempt (from another process or this one) throws
    /// <see cref="DirectoryLockedException"/> at once: two processes opening one data directory would each delete the
    /// other's new files as garbage.
    /// </summary>
    IDisposable LockDirectory(string directory);
}
