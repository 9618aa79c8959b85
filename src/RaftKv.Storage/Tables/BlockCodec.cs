using System.Buffers;
using System.Buffers.Binary;
using K4os.Compression.LZ4;
using RaftKv.Storage.IO;

namespace RaftKv.Storage.Tables;

/// <summary>Block trailer handling: compression byte + CRC32C (see FORMAT.md).</summary>
public static class BlockCodec
{
    public const int TrailerSize = 5;

    /// <summary>Writes the encoded block (payload, optionally LZ4-compressed, and trailer) to
    /// <paramref name="file"/> without intermediate copies; returns the bytes written.</summary>
    public static int Write(ReadOnlySpan<byte> payload, bool compress, IWritableFile file)
    {
        if (compress && payload.Length > 64)
        {
            var max = LZ4Codec.MaximumOutputSize(payload.Length);
            var buf = ArrayPool<byte>.Shared.Rent(max + 4);
            try
            {
                var n = LZ4Codec.Encode(payload, buf.AsSpan(4, max));
                if (n > 0 && n + 4 < payload.Length * 7 / 8)
                {
                    BinaryPrimitives.WriteUInt32LittleEndian(buf, (uint)payload.Length);
                    return WriteWithTrailer(buf.AsSpan(0, n + 4), 1, file);
                }
            }
            finally
            {
                ArrayPool<byte>.Shared.Return(buf);
            }
        }

        return WriteWithTrailer(payload, 0, file);
    }

    /// <summary>Verifies the trailer of a data block read into <paramref name="block"/> (which the
    /// caller hands over) and returns it decoded: an uncompressed payload is used in place.</summary>
    public static DataBlock DecodeDataBlock(byte[] block, string path, long offset) => DecodeDataBlock(block, block.Length, path, offset);

    /// <summary>As <see cref="DecodeDataBlock(byte[], string, long)"/> for a block in the first
    /// <paramref name="length"/> bytes of <paramref name="buffer"/>.</summary>
    public static DataBlock DecodeDataBlock(byte[] buffer, int length, string path, long offset)
    {
        var block = buffer.AsSpan(0, length);
        Verify(block, path, offset);
        return block[^TrailerSize] == 0
            ? new DataBlock(buffer, length - TrailerSize, path)
            : new DataBlock(DecodeVerified(block, path, offset), path);
    }

    /// <summary>Verifies the trailer and returns the raw payload.</summary>
    public static byte[] Decode(ReadOnlySpan<byte> block, string path, long offset)
    {
        Verify(block, path, offset);
        return DecodeVerified(block, path, offset);
    }

    private static byte[] DecodeVerified(ReadOnlySpan<byte> block, string path, long offset)
    {
        var body = block[..^4];
        var kind = body[^1];
        var payload = body[..^1];
        switch (kind)
        {
            case 0:
                return payload.ToArray();
            case 1:
                var declared = BinaryPrimitives.ReadUInt32LittleEndian(payload);
                if (declared > int.MaxValue / 2)
                {
                    throw new StorageCorruptionException(path, $"implausible LZ4 length {declared} at offset {offset}");
                }

                var rawLength = (int)declared;
                var raw = new byte[rawLength];
                if (LZ4Codec.Decode(payload[4..], raw) != rawLength)
                {
                    throw new StorageCorruptionException(path, $"bad LZ4 block at offset {offset}");
                }

                return raw;
            default:
                throw new StorageCorruptionException(path, $"unknown compression {kind} at offset {offset}");
        }
    }

    private static void Verify(ReadOnlySpan<byte> block, string path, long offset)
    {
        if (block.Length < TrailerSize)
        {
            throw new StorageCorruptionException(path, $"block at {offset} is too short");
        }

        var crc = BinaryPrimitives.ReadUInt32LittleEndian(block[^4..]);
        if (Crc32C.Compute(block[..^4]) != crc)
        {
            throw new StorageCorruptionException(path, $"checksum mismatch in block at offset {offset}");
        }
    }

    private static int WriteWithTrailer(ReadOnlySpan<byte> payload, byte kind, IWritableFile file)
    {
        file.Append(payload);
        Span<byte> trailer = stackalloc byte[TrailerSize];
        trailer[0] = kind;
        BinaryPrimitives.WriteUInt32LittleEndian(trailer[1..], Crc32C.Compute(payload, trailer[..1]));
        file.Append(trailer);
        return payload.Length + TrailerSize;
    }
}
