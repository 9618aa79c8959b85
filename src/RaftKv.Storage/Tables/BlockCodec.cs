using System.Buffers;
using System.Buffers.Binary;
using K4os.Compression.LZ4;
using RaftKv.Storage.IO;
using ZstdSharp;

namespace RaftKv.Storage.Tables;

/// <summary>Block trailer handling: compression byte + CRC32C (see FORMAT.md).</summary>
/// <remarks>A compressed payload is <c>rawLength:u32 || compressed bytes</c>; a block that does not
/// shrink by at least an eighth (or is at most 64 bytes) is stored uncompressed (kind 0) whatever
/// the requested <see cref="BlockCompression"/>, so readers never pay to decompress what did not
/// pay. Thread-safe: Zstd contexts are per thread.</remarks>
public static class BlockCodec
{
    public const int TrailerSize = 5;

    /// <summary>Zstandard level of <see cref="BlockCompression.Zstd"/> blocks (zstd's default, 3).</summary>
    public const int ZstdLevel = 3;

    private const int MinCompressBytes = 64;

    [ThreadStatic]
    private static Compressor? t_zstd;

    [ThreadStatic]
    private static Decompressor? t_unzstd;

    /// <summary>Writes the encoded block (payload, optionally LZ4-compressed, and trailer) to
    /// <paramref name="file"/> without intermediate copies; returns the bytes written.</summary>
    public static int Write(ReadOnlySpan<byte> payload, bool compress, IWritableFile file)
        => Write(payload, compress ? BlockCompression.Lz4 : BlockCompression.None, file);

    /// <summary>Writes the encoded block (payload compressed with <paramref name="compression"/> when
    /// that pays, and trailer) to <paramref name="file"/>; returns the bytes written.</summary>
    public static int Write(ReadOnlySpan<byte> payload, BlockCompression compression, IWritableFile file) => Write(payload, compression, file, out _);

    /// <summary>As <see cref="Write(ReadOnlySpan{byte}, BlockCompression, IWritableFile)"/>; <paramref name="used"/>
    /// is the compression the block was stored with (None when compressing did not pay).</summary>
    public static int Write(ReadOnlySpan<byte> payload, BlockCompression compression, IWritableFile file, out BlockCompression used)
    {
        if (compression != BlockCompression.None && payload.Length > MinCompressBytes)
        {
            var max = compression == BlockCompression.Zstd ? Compressor.GetCompressBound(payload.Length) : LZ4Codec.MaximumOutputSize(payload.Length);
            var buf = ArrayPool<byte>.Shared.Rent(max + 4);
            try
            {
                var n = Compress(compression, payload, buf.AsSpan(4, max));
                if (n > 0 && n + 4 < payload.Length * 7 / 8)
                {
                    BinaryPrimitives.WriteUInt32LittleEndian(buf, (uint)payload.Length);
                    used = compression;
                    return WriteWithTrailer(buf.AsSpan(0, n + 4), (byte)compression, file);
                }
            }
            finally
            {
                ArrayPool<byte>.Shared.Return(buf);
            }
        }

        used = BlockCompression.None;
        return WriteWithTrailer(payload, (byte)BlockCompression.None, file);
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

    /// <summary>The compression byte of an encoded block (not verified).</summary>
    public static BlockCompression KindOf(ReadOnlySpan<byte> block) => (BlockCompression)block[^TrailerSize];

    private static int Compress(BlockCompression compression, ReadOnlySpan<byte> payload, Span<byte> destination)
    {
        if (compression == BlockCompression.Lz4)
        {
            return LZ4Codec.Encode(payload, destination);
        }

        var zstd = t_zstd ??= new Compressor(ZstdLevel);
        return zstd.Wrap(payload, destination);
    }

    private static byte[] DecodeVerified(ReadOnlySpan<byte> block, string path, long offset)
    {
        var body = block[..^4];
        var kind = (BlockCompression)body[^1];
        var payload = body[..^1];
        if (kind == BlockCompression.None)
        {
            return payload.ToArray();
        }

        if (kind is not (BlockCompression.Lz4 or BlockCompression.Zstd))
        {
            throw new StorageCorruptionException(path, $"unknown compression {(byte)kind} at offset {offset}");
        }

        if (payload.Length < 4)
        {
            throw new StorageCorruptionException(path, $"compressed block at offset {offset} is too short");
        }

        var declared = BinaryPrimitives.ReadUInt32LittleEndian(payload);
        if (declared > int.MaxValue / 2)
        {
            throw new StorageCorruptionException(path, $"implausible {kind} length {declared} at offset {offset}");
        }

        var rawLength = (int)declared;
        var raw = new byte[rawLength];
        int n;
        if (kind == BlockCompression.Lz4)
        {
            n = LZ4Codec.Decode(payload[4..], raw);
        }
        else
        {
            try
            {
                n = (t_unzstd ??= new Decompressor()).Unwrap(payload[4..], raw);
            }
            catch (ZstdException)
            {
                n = -1;
            }
        }

        if (n != rawLength)
        {
            throw new StorageCorruptionException(path, $"bad {kind} block at offset {offset}");
        }

        return raw;
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
