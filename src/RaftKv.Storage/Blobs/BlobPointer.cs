using System.Buffers.Binary;

namespace RaftKv.Storage.Blobs;

/// <summary>
/// Where a value separated from its table lives (Tables/FORMAT.md, "Value files"): the value file's id, the offset of
/// the value's record in it and the value's length. Stored as the value of a table entry whose flags have bit 1 set:
/// <c>fileId:u64 offset:varint length:varint</c>.
/// </summary>
/// <param name="FileId">The value file's id (its name: <c>{id:x16}.blob</c>).</param>
/// <param name="Offset">Offset of the value's record (its 8-byte header) in the file.</param>
/// <param name="Length">The value's length.</param>
public readonly record struct BlobPointer(ulong FileId, long Offset, int Length)
{
    /// <summary>Upper bound of an encoded pointer's length.</summary>
    public const int MaxEncodedLength = 8 + 10 + 5;

    /// <summary>Encodes the pointer into <paramref name="destination"/> (≥ <see cref="MaxEncodedLength"/> bytes); returns its length.</summary>
    public int Encode(Span<byte> destination)
    {
        BinaryPrimitives.WriteUInt64LittleEndian(destination, FileId);
        var n = 8 + Varint.Write(destination[8..], (ulong)Offset);
        return n + Varint.Write(destination[n..], (ulong)Length);
    }

    /// <summary>Decodes a pointer stored as an entry's value; a malformed one is corruption of <paramref name="path"/>.</summary>
    public static BlobPointer Decode(ReadOnlySpan<byte> encoded, string path)
    {
        try
        {
            if (encoded.Length < 10)
            {
                throw new FormatException("too short");
            }

            var id = BinaryPrimitives.ReadUInt64LittleEndian(encoded);
            var pos = 8;
            var offset = Varint.Read(encoded, ref pos);
            var length = Varint.Read(encoded, ref pos);
            if (pos != encoded.Length || offset > long.MaxValue || length > int.MaxValue)
            {
                throw new FormatException("bad length");
            }

            return new BlobPointer(id, (long)offset, (int)length);
        }
        catch (Exception e) when (e is FormatException or IndexOutOfRangeException or ArgumentOutOfRangeException)
        {
            throw new StorageCorruptionException(path, $"malformed value-file pointer ({e.Message})");
        }
    }
}
