namespace RaftKv.Storage;

/// <summary>A file failed its checksum or structure check. Always names the file.</summary>
public sealed class StorageCorruptionException : IOException
{
    public StorageCorruptionException(string path, string detail)
        : base($"corrupt storage file '{path}': {detail}")
        => FilePath = path;

    public string FilePath { get; }
}
