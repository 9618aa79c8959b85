using System.Buffers.Binary;
using System.Text;
using DotNext.IO;
using RaftKv.Storage.IO;

namespace RaftKv.Replication.State;

/// <summary>
/// Streams a checkpoint directory as one Raft snapshot payload and unpacks it on the receiver.
/// Format: <c>magic:u32 ("RKVS") version:u8</c>, then per file <c>nameLength:u16 name[utf8]
/// length:u64 data[length]</c>, terminated by <c>nameLength = 0</c> and a CRC32C (u32) over every
/// byte before it. File names must be plain names (no directories).
/// </summary>
/// <remarks>Every file access goes through <see cref="IFileSystem"/>, so crash tests cover snapshots.</remarks>
internal static class SnapshotPacker
{
    private const uint Magic = 0x53564B52; // "RKVS"
    private const byte Version = 1;

    public static long ComputeLength(IFileSystem fs, string directory)
        => 5 + fs.ListFiles(directory).Sum(f => 2 + Encoding.UTF8.GetByteCount(f) + 8 + fs.GetLength(Path.Combine(directory, f))) + 2 + 4;

    public static async ValueTask WriteAsync<TWriter>(IFileSystem fs, string directory, TWriter writer, CancellationToken token)
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
        foreach (var fileName in fs.ListFiles(directory).Order(StringComparer.Ordinal))
        {
            var name = Encoding.UTF8.GetBytes(fileName);
            var head = new byte[2 + name.Length + 8];
            BinaryPrimitives.WriteUInt16LittleEndian(head, (ushort)name.Length);
            name.CopyTo(head, 2);
            using var file = fs.OpenRead(Path.Combine(directory, fileName));
            BinaryPrimitives.WriteUInt64LittleEndian(head.AsSpan(2 + name.Length), (ulong)file.Length);
            await Put(head).ConfigureAwait(false);
            for (long offset = 0; offset < file.Length;)
            {
                var n = (int)Math.Min(buffer.Length, file.Length - offset);
                file.ReadExactly(offset, buffer.AsSpan(0, n));
                offset += n;
                await Put(buffer.AsMemory(0, n)).ConfigureAwait(false);
            }
        }

        await Put(new byte[2]).ConfigureAwait(false);
        var tail = new byte[4];
        BinaryPrimitives.WriteUInt32LittleEndian(tail, crc.Value);
        await writer.Invoke(tail, token).ConfigureAwait(false);
    }

    /// <summary>
    /// Unpacks a payload previously copied to <paramref name="packedFile"/> into <paramref name="directory"/>;
    /// each file and the directory's entries are synced (the caller renames it and syncs the parent).
    /// </summary>
    public static void Unpack(IFileSystem fs, string packedFile, string directory)
    {
        fs.CreateDirectory(directory);
        using var input = fs.OpenRead(packedFile);
        long position = 0;
        var crc = new Crc();
        var small = new byte[8];
        void ReadRaw(Span<byte> dest)
        {
            input.ReadExactly(position, dest);
            position += dest.Length;
        }

        void ReadExact(Span<byte> dest)
        {
            ReadRaw(dest);
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
            using var output = fs.Create(Path.Combine(directory, name));
            while (length > 0)
            {
                var n = (int)Math.Min(buffer.Length, length);
                ReadExact(buffer.AsSpan(0, n));
                output.Append(buffer.AsSpan(0, n));
                length -= n;
            }

            output.Sync();
        }

        var expected = crc.Value;
        ReadRaw(small.AsSpan(0, 4));
        if (BinaryPrimitives.ReadUInt32LittleEndian(small) != expected)
        {
            throw new InvalidDataException($"snapshot payload in '{packedFile}' failed its checksum");
        }

        fs.SyncDirectory(directory); // the files' entries: without it a power cut may leave the renamed checkpoint empty
    }

    private sealed class Crc
    {
        private uint _state = Storage.Crc32C.Start;

        public uint Value => Storage.Crc32C.Finish(_state);

        public void Append(ReadOnlySpan<byte> data) => _state = Storage.Crc32C.Append(_state, data);
    }
}
