using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;
using RaftKv.Storage.IO;

namespace RaftKv.Replication.Backup;

/// <summary>Checks and unpacks a backup snapshot file (<see cref="SnapshotFileFormat"/>). Every refusal
/// is a <see cref="SnapshotFileException"/> with its <see cref="SnapshotFileError"/>.</summary>
public static class SnapshotFileReader
{
    /// <summary>Checks the whole file (length, then SHA-256 over every byte, then the structure) and returns its header.</summary>
    public static SnapshotHeader Verify(string path) => Read(path, null, null);

    /// <summary>Verifies the file, then writes its files into <paramref name="directory"/> (created; each file
    /// and the directory synced). Returns the header.</summary>
    public static SnapshotHeader Unpack(string path, IFileSystem fs, string directory) => Read(path, fs, directory);

    private static SnapshotHeader Read(string path, IFileSystem? fs, string? directory)
    {
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16);
        var length = stream.Length;
        if (length < SnapshotFileFormat.PreambleLength)
        {
            throw new SnapshotFileException(SnapshotFileError.Truncated, $"{path}: {length} bytes, too short to be a snapshot (truncated or empty)");
        }

        var (header, _) = SnapshotHeader.Decode(stream); // a wrong magic or version is named before the checksum
        if (length % SnapshotFileFormat.Alignment != SnapshotFileFormat.ChecksumLength)
        {
            throw new SnapshotFileException(SnapshotFileError.Truncated, $"{path}: {length} bytes is not a whole snapshot (its length modulo 512 must be 32): truncated");
        }

        stream.Position = 0;
        using (var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256))
        {
            var buffer = new byte[1 << 16];
            for (long left = length - SnapshotFileFormat.ChecksumLength; left > 0;)
            {
                var n = stream.Read(buffer, 0, (int)Math.Min(buffer.Length, left));
                sha.AppendData(buffer, 0, n);
                left -= n;
            }

            var expected = new byte[SnapshotFileFormat.ChecksumLength];
            SnapshotHeader.ReadFully(stream, expected);
            if (!sha.GetHashAndReset().AsSpan().SequenceEqual(expected))
            {
                throw new SnapshotFileException(SnapshotFileError.Corrupt, $"{path}: SHA-256 checksum mismatch: the file is corrupt");
            }
        }

        stream.Position = 0;
        SnapshotHeader.Decode(stream);
        ReadFiles(stream, header, length - SnapshotFileFormat.ChecksumLength, fs, directory);
        return header;
    }

    private static void ReadFiles(Stream stream, SnapshotHeader header, long contentEnd, IFileSystem? fs, string? directory)
    {
        if (fs is not null)
        {
            fs.CreateDirectory(directory!);
        }

        var small = new byte[8];
        var buffer = new byte[1 << 16];
        var files = 0;
        while (true)
        {
            SnapshotHeader.ReadFully(stream, small.AsSpan(0, 2));
            var nameLength = BinaryPrimitives.ReadUInt16LittleEndian(small);
            if (nameLength == 0)
            {
                break;
            }

            var nameBytes = new byte[nameLength];
            SnapshotHeader.ReadFully(stream, nameBytes);
            var name = Encoding.UTF8.GetString(nameBytes);
            if (name.Contains('/') || name.Contains('\\') || name is "." or "..")
            {
                throw new SnapshotFileException(SnapshotFileError.Corrupt, $"the snapshot names an invalid file '{name}'");
            }

            SnapshotHeader.ReadFully(stream, small);
            var fileLength = BinaryPrimitives.ReadInt64LittleEndian(small);
            if (fileLength < 0 || fileLength > contentEnd - stream.Position)
            {
                throw new SnapshotFileException(SnapshotFileError.Corrupt, $"the snapshot's file '{name}' claims {fileLength} bytes, past the end of the content");
            }

            using var output = fs?.Create(Path.Combine(directory!, name));
            while (fileLength > 0)
            {
                var n = (int)Math.Min(buffer.Length, fileLength);
                SnapshotHeader.ReadFully(stream, buffer.AsSpan(0, n));
                output?.Append(buffer.AsSpan(0, n));
                fileLength -= n;
            }

            output?.Sync();
            files++;
        }

        if (files != header.FileCount)
        {
            throw new SnapshotFileException(SnapshotFileError.Corrupt, $"the snapshot holds {files} files, its header says {header.FileCount}");
        }

        for (var left = contentEnd - stream.Position; left > 0;)
        {
            var n = (int)Math.Min(buffer.Length, left);
            SnapshotHeader.ReadFully(stream, buffer.AsSpan(0, n));
            if (buffer.AsSpan(0, n).ContainsAnyExcept((byte)0))
            {
                throw new SnapshotFileException(SnapshotFileError.Corrupt, "the snapshot's padding is not zero");
            }

            left -= n;
        }

        if (fs is not null)
        {
            fs.SyncDirectory(directory!);
        }
    }
}
