namespace RaftKv.Storage;

/// <summary>A file failed its checksum or structure check. Always names the file; the byte offset of
/// the damage too where the format can tell it.</summary>
public sealed class StorageCorruptionException : IOException
{
    public StorageCorruptionException(string path, string detail)
        : base($"corrupt storage file '{path}': {detail}")
        => FilePath = path;

    public StorageCorruptionException(string path, long offset, string detail)
        : base($"corrupt storage file '{path}' at offset {offset}: {detail}")
    {
        FilePath = path;
        Offset = offset;
    }

    public string FilePath { get; }

    /// <summary>Byte offset in <see cref="FilePath"/> where the damage starts, when known.</summary>
    public long? Offset { get; }
}
