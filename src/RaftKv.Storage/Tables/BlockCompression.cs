namespace RaftKv.Storage.Tables;

/// <summary>How data blocks of a table are compressed. The values are the on-disk compression byte
/// of a block trailer (FORMAT.md): never renumber.</summary>
public enum BlockCompression : byte
{
    /// <summary>Stored as is.</summary>
    None = 0,

    /// <summary>LZ4 block format (K4os.Compression.LZ4): fast, modest ratio. Readable by format 1.</summary>
    Lz4 = 1,

    /// <summary>Zstandard (ZstdSharp, level <see cref="BlockCodec.ZstdLevel"/>): better ratio, slower.
    /// A table with Zstd blocks is written as format version 2.</summary>
    Zstd = 2,
}
