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
    public static SnapshotHeader Verify(string path) => Read(path, null, null, null);

    /// <summary><see cref="Verify(string)"/>, reporting the bytes checksummed so far of the file's length to <paramref name="progress"/>
    /// (synchronously; the structure pass after the checksum is not reported: `raftkv restore` printed 0–100 % twice).</summary>
    public static SnapshotHeader Verify(string path, IProgress<(long Done, long Total)>? progress)
        => Read(path, null, null, progress is null ? null : (phase, done, total) =>
        {
            if (phase == ChecksumPhase)
            {
                progress.Report((done, total));
            }
        });

    /// <summary>Verifies the file, then writes its files into <paramref name="directory"/> (created; each file
    /// and the directory synced). Returns the header.</summary>
    public static SnapshotHeader Unpack(string path, IFileSystem fs, string directory) => Read(path, fs, directory, null);

    /// <summary><see cref="Unpack(string, IFileSystem, string)"/>, reporting the bytes of the file unpacked so far (after its
    /// checksum pass, which is not reported) of the file's length to <paramref name="progress"/> (synchronously).</summary>
    public static SnapshotHeader Unpack(string path, IFileSystem fs, string directory, IProgress<(long Done, long Total)>? progress)
        => Read(path, fs, directory, progress is null ? null : (phase, done, total) =>
        {
            if (phase == UnpackPhase)
            {
                progress.Report((done, total));
            }
        });

    private const string ChecksumPhase = "checksum";
    private const string UnpackPhase = "unpack";

    /// <summary>Reads the file: a checksum pass, then the structure (writing the files when <paramref name="fs"/> is given);
    /// <paramref name="report"/> gets each pass's (phase, bytes read, file length) per 64 KiB.</summary>
    private static SnapshotHeader Read(string path, IFileSystem? fs, string? directory, Action<string, long, long>? report)
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
        report?.Invoke(ChecksumPhase, 0, length);
        using (var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256))
        {
            var buffer = new byte[1 << 16];
            for (long left = length - SnapshotFileFormat.ChecksumLength; left > 0;)
            {
                var n = stream.Read(buffer, 0, (int)Math.Min(buffer.Length, left));
                sha.AppendData(buffer, 0, n);
                left -= n;
                report?.Invoke(ChecksumPhase, stream.Position, length);
            }

            var expected = new byte[SnapshotFileFormat.ChecksumLength];
            SnapshotHeader.ReadFully(stream, expected);
            if (!sha.GetHashAndReset().AsSpan().SequenceEqual(expected))
            {
                throw new SnapshotFileException(SnapshotFileError.Corrupt, $"{path}: SHA-256 checksum mismatch: the file is corrupt");
            }
        }

        report?.Invoke(ChecksumPhase, length, length);
        stream.Position = 0;
        SnapshotHeader.Decode(stream);
        report?.Invoke(UnpackPhase, 0, length);
        ReadFiles(stream, header, length - SnapshotFileFormat.ChecksumLength, fs, directory, report is null ? null : done => report(UnpackPhase, done, length));
        report?.Invoke(UnpackPhase, length, length);
        return header;
    }

    private static void ReadFiles(Stream stream, SnapshotHeader header, long contentEnd, IFileSystem? fs, string? directory, Action<long>? report)
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
                report?.Invoke(stream.Position);
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
