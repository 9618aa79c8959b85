using System.Buffers.Binary;
using RaftKv.Storage;

namespace RaftKv.Replication.Tests;

/// <summary>Damages a replica's SSTable on disk, outside Raft (format: src/RaftKv.Storage/Tables/FORMAT.md).</summary>
internal static class SstEditor
{
    /// <summary>The table under <paramref name="lsmDir"/> holding <paramref name="needle"/> (uncompressed
    /// data blocks) and the offset of its first byte in the table's last occurrence: with MVCC a value is
    /// stored twice (its history record under <c>0x00 0xFF "h/"</c>, which sorts first, and the current
    /// value at the user key, which comes after), and the current value is the one reads serve.</summary>
    public static (string Path, long Offset) Find(string lsmDir, byte[] needle)
    {
        // The current value's table: tables hold one key space each (user keys apart from MVCC history,
        // which keeps a copy of every value under 0x00 0xFF "h/"), so skip history tables first.
        byte[] history = [0x00, 0xFF, (byte)'h', (byte)'/'];
        var files = Directory.GetFiles(lsmDir, "*.sst").Select(p => (Path: p, Bytes: File.ReadAllBytes(p))).ToList();
        foreach (var (path, bytes) in files.OrderBy(f => f.Bytes.AsSpan().IndexOf(history) >= 0))
        {
            var at = bytes.AsSpan().LastIndexOf(needle);
            if (at >= 0)
            {
                return (path, at);
            }
        }

        throw new InvalidOperationException($"no table in {lsmDir} holds the value");
    }

    /// <summary>Overwrites one byte; the block's CRC no longer matches (a plain bit rot).</summary>
    public static void Flip(string path, long offset, byte value)
    {
        using var f = new FileStream(path, FileMode.Open, FileAccess.ReadWrite);
        f.Position = offset;
        f.WriteByte(value);
        f.Flush(flushToDisk: true);
    }

    /// <summary>Overwrites one byte of a data block and rewrites the block's CRC32C, so the table reads
    /// back without error but with a different value (what a checksum cannot catch).</summary>
    public static void FlipKeepingChecksum(string path, long offset, byte value)
    {
        var bytes = File.ReadAllBytes(path);
        var footer = bytes.AsSpan(bytes.Length - 48);
        var indexOffset = (int)BinaryPrimitives.ReadUInt64LittleEndian(footer);
        var indexLength = (int)BinaryPrimitives.ReadUInt32LittleEndian(footer[8..]);
        var index = bytes.AsSpan(indexOffset, indexLength - 5); // payload without the 5-byte trailer
        var pos = 0;
        while (pos < index.Length)
        {
            var keyLength = (int)ReadVarint(index, ref pos);
            pos += keyLength;
            var blockOffset = (long)ReadVarint(index, ref pos);
            var blockLength = (int)ReadVarint(index, ref pos); // trailer included
            if (offset >= blockOffset && offset < blockOffset + blockLength - 5)
            {
                bytes[offset] = value;
                var payloadAndCompression = bytes.AsSpan((int)blockOffset, blockLength - 4);
                Assert.Equal(0, payloadAndCompression[^1]); // uncompressed: the value is in the file as is
                BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan((int)blockOffset + blockLength - 4), Crc32C.Compute(payloadAndCompression));
                File.WriteAllBytes(path, bytes);
                return;
            }
        }

        throw new InvalidOperationException($"offset {offset} is not inside a data block of {path}");
    }

    private static ulong ReadVarint(ReadOnlySpan<byte> data, ref int pos)
    {
        ulong result = 0;
        for (var shift = 0; ; shift += 7)
        {
            var b = data[pos++];
            result |= (ulong)(b & 0x7F) << shift;
            if (b < 0x80)
            {
                return result;
            }
        }
    }
}
