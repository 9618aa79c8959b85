using System.Buffers.Binary;
using RaftKv.Storage.IO;

namespace RaftKv.Storage.Blobs;

/// <summary>
/// Appends values to one new value file (Tables/FORMAT.md, "Value files"): a 16-byte header, then one record per
/// value, <c>length:u32 crc:u32 value</c> (CRC32C of the value). Created by <see cref="BlobSet.Create"/>, written by
/// one flush or compaction, and made durable by <see cref="Finish"/> before any manifest edit names a table pointing
/// into it. Not thread-safe: one writer.
/// </summary>
internal sealed class BlobWriter : IDisposable
{
    public const ulong Magic = 0x3130424C42564B52; // "RKVBLB01"
    public const uint FormatVersion = 1;
    public const int HeaderSize = 16;
    public const int RecordHeaderSize = 8;

    private readonly IWritableFile _file;
    private readonly byte[] _recordHeader = new byte[RecordHeaderSize];

    public BlobWriter(IWritableFile file, ulong id, string path)
    {
        _file = file;
        Id = id;
        Path = path;
        Span<byte> header = stackalloc byte[HeaderSize];
        BinaryPrimitives.WriteUInt64LittleEndian(header, Magic);
        BinaryPrimitives.WriteUInt32LittleEndian(header[8..], FormatVersion);
        _file.Append(header);
    }

    public ulong Id { get; }

    public string Path { get; }

    /// <summary>Bytes written so far.</summary>
    public long Length => _file.Length;

    /// <summary>Appends <paramref name="value"/>; returns where it is.</summary>
    public BlobPointer Append(ReadOnlySpan<byte> value)
    {
        var offset = _file.Length;
        BinaryPrimitives.WriteUInt32LittleEndian(_recordHeader, (uint)value.Length);
        BinaryPrimitives.WriteUInt32LittleEndian(_recordHeader.AsSpan(4), Crc32C.Compute(value));
        _file.Append(_recordHeader);
        _file.Append(value);
        return new BlobPointer(Id, offset, value.Length);
    }

    /// <summary>Fsyncs the file (the caller syncs the directory); returns its size.</summary>
    public long Finish()
    {
        _file.Sync();
        return _file.Length;
    }

    public void Dispose() => _file.Dispose();
}
