using System.Buffers.Binary;
using System.Security.Cryptography;

namespace RaftKv.Cli;

/// <summary>
/// The header of a backup snapshot file, read after checking its length and trailing SHA-256. The format (v1) is
/// documented in src/RaftKv.Replication/Backup/SnapshotFileFormat.cs; kvctl reads only the preamble and header:
/// magic "RAFTKVSS", version u16, headerLen u16, raftIndex i64, raftTerm i64, createdUnixMs i64, sourceNodeId i64,
/// clusterId u64, flags u32 (bit 0: archived tables referenced), fileCount u32, dataBytes i64 (little-endian);
/// length ≡ 32 (mod 512); the last 32 bytes are the SHA-256 of all before them. The file <c>etcdctl snapshot save</c>
/// writes from RaftKv (src/RaftKv.Server/Backup/Bbolt/EtcdSnapshotFile.cs) has an etcd backend (a bbolt file) first:
/// the RaftKv snapshot starts at its high-water page × page size, read from its meta pages, and the file's own last
/// 32 bytes are the SHA-256 of the whole.
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

        var start = await BboltLengthAsync(file, cancellationToken).ConfigureAwait(false);
        if (start > 0 && !await HasRaftKvPartAsync(file, start, cancellationToken).ConfigureAwait(false))
        {
            throw new InvalidDataException($"{path}: etcd's own snapshot (a bbolt file without a RaftKv part): 'etcdctl snapshot status' reads it; 'kvctl snapshot restore' and 'raftkv restore' import it");
        }

        file.Position = 0;
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

            // The header's bytes [start, start + HeaderEnd) within this block [done, done + n).
            var from = Math.Max(done, start);
            var to = Math.Min(done + n, start + HeaderEnd);
            if (from < to)
            {
                buffer.AsSpan((int)(from - done), (int)(to - from)).CopyTo(header.AsSpan((int)(from - start)));
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

    /// <summary>Whether <paramref name="path"/> is etcd's own snapshot (<c>etcdctl snapshot save</c> against etcd): a bbolt
    /// file with no RaftKv snapshot after it, which <c>raftkv restore</c> imports (and verifies) itself.</summary>
    public static async Task<bool> IsEtcdBackendAsync(string path, CancellationToken cancellationToken)
    {
        await using var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16, useAsync: true);
        var start = await BboltLengthAsync(file, cancellationToken).ConfigureAwait(false);
        return start > 0 && !await HasRaftKvPartAsync(file, start, cancellationToken).ConfigureAwait(false);
    }

    private static async Task<bool> HasRaftKvPartAsync(FileStream file, long start, CancellationToken cancellationToken)
    {
        if (file.Length - start < HeaderEnd + 512)
        {
            return false;
        }

        var magic = new byte[8];
        file.Position = start;
        await file.ReadExactlyAsync(magic, cancellationToken).ConfigureAwait(false);
        return magic.AsSpan().SequenceEqual("RAFTKVSS"u8);
    }

    /// <summary>Where the RaftKv snapshot starts: 0, or after the bbolt file when the file starts with one (its newest
    /// meta page's high-water pgid × page size; bbolt: page header 16 bytes, flags u16 at 8 = 0x04, then magic
    /// 0xED0CDAED, version, pageSize u32 at +8, …, pgid u64 at +40, txid u64 at +48).</summary>
    private static async Task<long> BboltLengthAsync(FileStream file, CancellationToken cancellationToken)
    {
        const int PageSize = 4096;
        if (file.Length < 2 * PageSize)
        {
            return 0;
        }

        var pages = new byte[2 * PageSize];
        await file.ReadExactlyAsync(pages, cancellationToken).ConfigureAwait(false);
        long start = 0, txid = -1;
        for (var i = 0; i < 2; i++)
        {
            var page = pages.AsSpan(i * PageSize);
            var meta = page[16..];
            if (BinaryPrimitives.ReadUInt16LittleEndian(page[8..]) == 0x04 && BinaryPrimitives.ReadUInt32LittleEndian(meta) == 0xED0CDAED
                && BinaryPrimitives.ReadInt64LittleEndian(meta[48..]) > txid)
            {
                txid = BinaryPrimitives.ReadInt64LittleEndian(meta[48..]);
                start = BinaryPrimitives.ReadInt64LittleEndian(meta[40..]) * BinaryPrimitives.ReadUInt32LittleEndian(meta[8..]);
            }
        }

        return start >= 0 && start < file.Length ? start : 0;
    }
}
