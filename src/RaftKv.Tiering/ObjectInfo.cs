namespace RaftKv.Tiering;

/// <summary>An object's key, size, last modification and stored CRC32C (if any).</summary>
public sealed record ObjectInfo(string Key, long Size, DateTimeOffset LastModified, uint? Crc32C);
