namespace RaftKv.Storage.IO;

/// <summary>The directory's lock is held: another process (or another open in this one) uses it
/// (<see cref="IFileSystem.LockDirectory"/>).</summary>
public sealed class DirectoryLockedException(string directory, Exception? inner = null)
    : IOException($"{directory} is in use by another process (its LOCK file is held): two nodes must never share a data directory", inner)
{
    public string Directory { get; } = directory;
}
