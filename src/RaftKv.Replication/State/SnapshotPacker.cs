using System.Buffers.Binary;
using System.Text;
using DotNext.IO;

namespace RaftKv.Replication.State;

/// <summary>
/// Streams a checkpoint directory as one Raft snapshot payload and unpacks it on the receiver.
/// Format: <c>magic:u32 ("RKVS") version:u8</c>, then per file <c>nameLength:u16 name[utf8]
/// length:u64 data[length]</c>, terminated by <c>nameLength = 0</c> and a CRC32C (u32) over every
/// byte before it. File names must be plain names (no directories).
/// </summary>
internal static class SnapshotPacker
{
    private const uint Magic = 0x53564B52; // "RKVS"
    private const byte Version = 1;

    public static long ComputeLength(string directory)
        => 5 + Directory.GetFiles(directory).Sum(f => 2 + Encoding.UTF8.GetByteCount(Path.GetFileName(f)) + 8 + new FileInfo(f).Length) + 2 + 4;

    public static async ValueTask WriteAsync<TWriter>(string directory, TWriter writer, CancellationToken token)
        where TWriter : IAsyncBinaryWriter
    {
        var crc = new Crc();
        async ValueTask Put(ReadOnlyMemory<byte> data)
        {
            crc.Append(data.Span);
            await writer.Invoke(data, token).ConfigureAwait(false);
        }

        var header = new byte[5];
        BinaryPrimitives.WriteUInt32LittleEndian(header, Magic);
        header[4] = Version;
        await Put(header).ConfigureAwait(false);
        var buffer = new byte[1 << 16];
        foreach (var file in Directory.GetFiles(directory).Order(StringComparer.Ordinal))
        {
            var name = Encoding.UTF8.GetBytes(Path.GetFileName(file));
            var head = new byte[2 + name.Length + 8];
            BinaryPrimitives.WriteUInt16LittleEndian(head, (ushort)name.Length);
            name.CopyTo(head, 2);
            await using var stream = new FileStream(file, FileMode.Open, FileAccess.Read, FileShare.Read, 1, useAsync: true);
            BinaryPrimitives.WriteUInt64LittleEndian(head.AsSpan(2 + name.Length), (ulong)stream.Length);
            await Put(head).ConfigureAwait(false);
            int n;
            while ((n = await stream.ReadAsync(buffer, token).ConfigureAwait(false)) > 0)
            {
                await Put(buffer.AsMemory(0, n)).ConfigureAwait(false);
            }
        }

        await Put(new byte[2]).ConfigureAwait(false);
        var tail = new byte[4];
        BinaryPrimitives.WriteUInt32LittleEndian(tail, crc.Value);
        await writer.Invoke(tail, token).ConfigureAwait(false);
    }

    /// <summary>Unpacks a payload previously copied to <paramref name="packedFile"/> into <paramref name="directory"/>.</summary>
    public static void Unpack(string packedFile, string directory)
    {
        Directory.CreateDirectory(directory);
        using var input = new FileStream(packedFile, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16);
        var crc = new Crc();
        var small = new byte[8];
        void ReadExact(Span<byte> dest)
        {
            input.ReadExactly(dest);
            crc.Append(dest);
        }

        ReadExact(small.AsSpan(0, 5));
        if (BinaryPrimitives.ReadUInt32LittleEndian(small) != Magic || small[4] != Version)
        {
            throw new InvalidDataException($"snapshot payload in '{packedFile}' has an unknown header");
        }

        var buffer = new byte[1 << 16];
        while (true)
        {
            ReadExact(small.AsSpan(0, 2));
            var nameLength = BinaryPrimitives.ReadUInt16LittleEndian(small);
            if (nameLength == 0)
            {
                break;
            }

            var nameBytes = new byte[nameLength];
            ReadExact(nameBytes);
            var name = Encoding.UTF8.GetString(nameBytes);
            if (name.Contains('/') || name.Contains('\\') || name is "." or "..")
            {
                throw new InvalidDataException($"snapshot payload names an invalid file '{name}'");
            }

            ReadExact(small);
            var length = (long)BinaryPrimitives.ReadUInt64LittleEndian(small);
            using var output = new FileStream(Path.Combine(directory, name), FileMode.Create, FileAccess.Write, FileShare.None, 1 << 16);
            while (length > 0)
            {
                var n = (int)Math.Min(buffer.Length, length);
                ReadExact(buffer.AsSpan(0, n));
                output.Write(buffer, 0, n);
                length -= n;
            }

            output.Flush(flushToDisk: true);
        }

        var expected = crc.Value;
        input.ReadExactly(small.AsSpan(0, 4));
        if (BinaryPrimitives.ReadUInt32LittleEndian(small) != expected)
        {
            throw new InvalidDataException($"snapshot payload in '{packedFile}' failed its checksum");
        }
    }

    private sealed class Crc
    {
        private uint _state = Storage.Crc32C.Start;

        public uint Value => Storage.Crc32C.Finish(_state);

        public void Append(ReadOnlySpan<byte> data) => _state = Storage.Crc32C.Append(_state, data);
    }
}
