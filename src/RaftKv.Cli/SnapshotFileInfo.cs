using System.Buffers.Binary;
using System.Security.Cryptography;

namespace RaftKv.Cli;

/// <summary>
/// The header of a backup snapshot file, read after checking its length and trailing SHA-256. The format (v1) is
/// documented in src/RaftKv.Replication/Backup/SnapshotFileFormat.cs; kvctl reads only the preamble and header:
/// magic "RAFTKVSS", version u16, headerLen u16, raftIndex i64, raftTerm i64, createdUnixMs i64, sourceNodeId i64,
/// clusterId u64, flags u32 (bit 0: archived tables referenced), fileCount u32, dataBytes i64 (little-endian);
/// length ≡ 32 (mod 512); the last 32 bytes are the SHA-256 of all before them.
/// </summary>
public sealed record SnapshotFileInfo(long RaftIndex, long RaftTerm, DateTimeOffset Created, long SourceNodeId, ulong ClusterId, bool ArchivedReferenced, uint Files, long DataBytes, long TotalBytes)
{
    private const int ChecksumLength = 32;
    private const int HeaderEnd = 12 + 56;

    /// <summary>Checks <paramref name="path"/>; throws <see cref="InvalidDataException"/> (exit 1) for a truncated, corrupt or foreign file.</summary>
    public static async Task<SnapshotFileInfo> VerifyAsync(string path, IProgress<(long Done, long Total)> progress, CancellationToken cancellationToken)
    {
        await using var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16, useAsync: true);
        var length = file.Length;
        if (length < HeaderEnd + ChecksumLength || length % 512 != ChecksumLength)
        {
            throw new InvalidDataException($"{path}: not a whole snapshot file ({length} bytes: truncated, or not a RaftKv snapshot)");
        }

        var header = new byte[HeaderEnd];
        using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        var buffer = new byte[1 << 16];
        long done = 0, body = length - ChecksumLength;
        while (done < body)
        {
            var n = await file.ReadAsync(buffer.AsMemory(0, (int)Math.Min(buffer.Length, body - done)), cancellationToken).ConfigureAwait(false);
            if (n == 0)
            {
                throw new InvalidDataException($"{path}: file shrank while reading");
            }

            if (done < HeaderEnd)
            {
                buffer.AsSpan(0, (int)Math.Min(n, HeaderEnd - done)).CopyTo(header.AsSpan((int)done));
            }

            sha.AppendData(buffer, 0, n);
            done += n;
            progress.Report((done, body));
        }

        var expected = new byte[ChecksumLength];
        await file.ReadExactlyAsync(expected, cancellationToken).ConfigureAwait(false);
        if (!header.AsSpan(0, 8).SequenceEqual("RAFTKVSS"u8))
        {
            throw new InvalidDataException($"{path}: not a RaftKv snapshot (bad magic)");
        }

        if (!sha.GetHashAndReset().AsSpan().SequenceEqual(expected))
        {
            throw new InvalidDataException($"{path}: the snapshot failed its SHA-256 checksum (corrupt)");
        }

        var h = header.AsSpan(12);
        return new SnapshotFileInfo(
            BinaryPrimitives.ReadInt64LittleEndian(h),
            BinaryPrimitives.ReadInt64LittleEndian(h[8..]),
            DateTimeOffset.FromUnixTimeMilliseconds(BinaryPrimitives.ReadInt64LittleEndian(h[16..])),
            BinaryPrimitives.ReadInt64LittleEndian(h[24..]),
            BinaryPrimitives.ReadUInt64LittleEndian(h[32..]),
            (BinaryPrimitives.ReadUInt32LittleEndian(h[40..]) & 1) != 0,
            BinaryPrimitives.ReadUInt32LittleEndian(h[44..]),
            BinaryPrimitives.ReadInt64LittleEndian(h[48..]),
            length);
    }
}
