using System.Buffers.Binary;
using K4os.Compression.LZ4;

namespace RaftKv.Storage.Tables;

/// <summary>Block trailer handling: compression byte + CRC32C (see FORMAT.md).</summary>
public static class BlockCodec
{
    public const int TrailerSize = 5;

    /// <summary>Appends the encoded block (payload, optionally LZ4-compressed, and trailer) to <paramref name="output"/>.</summary>
    public static void Encode(ReadOnlySpan<byte> payload, bool compress, List<byte> output)
    {
        if (compress && payload.Length > 64)
        {
            var max = LZ4Codec.MaximumOutputSize(payload.Length);
            var buf = new byte[max + 4];
            var n = LZ4Codec.Encode(payload, buf.AsSpan(4));
            if (n > 0 && n + 4 < payload.Length * 7 / 8)
            {
                BinaryPrimitives.WriteUInt32LittleEndian(buf, (uint)payload.Length);
                AppendWithTrailer(buf.AsSpan(0, n + 4), 1, output);
                return;
            }
        }

        AppendWithTrailer(payload, 0, output);
    }

    /// <summary>Verifies the trailer and returns the raw payload.</summary>
    public static byte[] Decode(ReadOnlySpan<byte> block, string path, long offset)
    {
        if (block.Length < TrailerSize)
        {
            throw new StorageCorruptionException(path, $"block at {offset} is too short");
        }

        var body = block[..^4];
        var crc = BinaryPrimitives.ReadUInt32LittleEndian(block[^4..]);
        if (Crc32C.Compute(body) != crc)
        {
            throw new StorageCorruptionException(path, $"checksum mismatch in block at offset {offset}");
        }

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

    private static void AppendWithTrailer(ReadOnlySpan<byte> payload, byte kind, List<byte> output)
    {
        output.AddRange(payload);
        output.Add(kind);
        Span<byte> crc = stackalloc byte[4];
        BinaryPrimitives.WriteUInt32LittleEndian(crc, Crc32C.Compute(payload, [kind]));
        output.AddRange(crc);
    }
}
