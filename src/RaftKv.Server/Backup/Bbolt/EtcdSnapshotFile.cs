using System.Security.Cryptography;
using RaftKv.Replication.Api;
using RaftKv.Replication.Backup;

namespace RaftKv.Server.Backup.Bbolt;

/// <summary>
/// The snapshot etcd's <c>Maintenance.Snapshot</c> streams (so <c>etcdctl snapshot save</c> writes it), format version 1:
/// <code>
/// [etcd backend: a bbolt file, H bytes]  EtcdBackendExport: what etcdctl snapshot status / restore read
/// [RaftKv snapshot: N bytes]             SnapshotFileFormat, the member's checkpoint: what raftkv restore reads
/// [480 zero bytes][SHA-256 of all the bytes before it, 32 bytes]
/// </code>
/// H is the bbolt file's high-water page × page size (from its meta page), N ≡ 32 (mod 512), so the whole length is
/// 32 modulo 512 and ends with the SHA-256 of the rest: etcd's sign of a hashed snapshot, which <c>etcdctl snapshot
/// restore</c> verifies. bbolt ignores the bytes after its high-water mark, so etcd sees only its backend (an etcd
/// restored from it holds the keys, their history since the compact revision, and the leases). <c>raftkv restore</c>
/// (<see cref="TryExtractAsync"/>) verifies the SHA-256, then restores the RaftKv part, which carries everything
/// (auth, alarms, native TTLs, archived tables). The etcd part is read right after the RaftKv checkpoint, at the
/// member's applied revision then: under concurrent writes it may hold a few revisions more.
/// </summary>
public static class EtcdSnapshotFile
{
    /// <summary>The zero padding and the SHA-256 after the RaftKv part.</summary>
    public const int TrailerLength = 512;

    /// <summary>Streams the composite snapshot of this member; <c>emit(chunk, sentSoFar, total)</c> sends one message (sentSoFar counts the chunk).</summary>
    public static async Task StreamAsync(IKvNode node, ISnapshotSource source, ulong clusterId, Func<ReadOnlyMemory<byte>, long, long, Task> emit, CancellationToken cancellationToken)
    {
        using var export = await source.ExportSnapshotAsync(referenceArchived: false, clusterId, cancellationToken).ConfigureAwait(false);
        var db = TempFile();
        await using (db.ConfigureAwait(false))
        {
            var dbLength = await EtcdBackendExport.WriteAsync(node, export.Header.RaftIndex, db, cancellationToken).ConfigureAwait(false);
            var total = dbLength + export.Length + TrailerLength;
            using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
            var stream = new ChunkingStream((chunk, sent) =>
            {
                sha.AppendData(chunk.Span);
                return emit(chunk, sent, total);
            });
            await using (stream.ConfigureAwait(false))
            {
                db.Position = 0;
                await CopyAsync(db, stream, dbLength, cancellationToken).ConfigureAwait(false);
                await export.WriteToAsync(stream, null, cancellationToken).ConfigureAwait(false);
                await stream.WriteAsync(new byte[TrailerLength - SnapshotFileFormat.ChecksumLength], cancellationToken).ConfigureAwait(false);
                await stream.CompleteAsync().ConfigureAwait(false);
                await emit(sha.GetHashAndReset(), total, total).ConfigureAwait(false);
            }
        }
    }

    /// <summary>
    /// When <paramref name="path"/> starts with a bbolt file: verifies the whole file's SHA-256 and copies its RaftKv
    /// part to a temporary file, whose path it returns (the caller deletes it); null for any other file (a RaftKv
    /// snapshot as is). Throws <see cref="SnapshotFileException"/> for a corrupt or truncated file, and for etcd's own
    /// snapshot (a bbolt file without a RaftKv part: check <see cref="IsEtcdBackendAsync"/> first and import it).
    /// </summary>
    public static async Task<string?> TryExtractAsync(string path, CancellationToken cancellationToken = default)
    {
        var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16, FileOptions.SequentialScan);
        await using (file.ConfigureAwait(false))
        {
            if (BboltLength(file) is not { } dbLength)
            {
                return null;
            }

            var nativeLength = file.Length - dbLength - TrailerLength;
            if (!await HasNativePartAsync(file, dbLength, cancellationToken).ConfigureAwait(false))
            {
                throw new SnapshotFileException(nativeLength < SnapshotFileFormat.PreambleLength ? SnapshotFileError.Truncated : SnapshotFileError.NotASnapshot,
                    "an etcd backend without a RaftKv snapshot after it (etcd's own snapshot?): restore it with raftkv restore, which imports it");
            }

            file.Position = 0;
            using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
            var buffer = new byte[1 << 16];
            for (var left = file.Length - SnapshotFileFormat.ChecksumLength; left > 0;)
            {
                var n = await file.ReadAsync(buffer.AsMemory(0, (int)Math.Min(buffer.Length, left)), cancellationToken).ConfigureAwait(false);
                sha.AppendData(buffer, 0, n);
                left -= n;
            }

            var expected = new byte[SnapshotFileFormat.ChecksumLength];
            await file.ReadExactlyAsync(expected, cancellationToken).ConfigureAwait(false);
            if (!sha.GetHashAndReset().AsSpan().SequenceEqual(expected))
            {
                throw new SnapshotFileException(SnapshotFileError.Corrupt, "the snapshot's SHA-256 does not match its content (corrupt or truncated)");
            }

            var native = Path.Combine(Path.GetDirectoryName(Path.GetFullPath(path))!, $".{Path.GetFileName(path)}.raftkv-{Guid.NewGuid():N}");
            var output = new FileStream(native, FileMode.CreateNew, FileAccess.Write);
            await using (output.ConfigureAwait(false))
            {
                file.Position = dbLength;
                await CopyAsync(file, output, nativeLength, cancellationToken).ConfigureAwait(false);
            }

            return native;
        }
    }

    /// <summary>
    /// Whether <paramref name="path"/> is etcd's own snapshot (<c>etcdctl snapshot save</c> against a real etcd, or a
    /// bare bbolt file): it starts with a bbolt database and has no RaftKv snapshot after it. <c>raftkv restore</c>
    /// imports such a file (<see cref="EtcdBackendImport"/>) instead of extracting it (<see cref="TryExtractAsync"/>).
    /// </summary>
    public static async Task<bool> IsEtcdBackendAsync(string path, CancellationToken cancellationToken = default)
    {
        var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read);
        await using (file.ConfigureAwait(false))
        {
            return BboltLength(file) is { } dbLength
                && !await HasNativePartAsync(file, dbLength, cancellationToken).ConfigureAwait(false);
        }
    }

    private static async Task<bool> HasNativePartAsync(Stream file, long dbLength, CancellationToken cancellationToken)
    {
        if (file.Length - dbLength - TrailerLength < SnapshotFileFormat.PreambleLength)
        {
            return false;
        }

        var magic = new byte[SnapshotFileFormat.Magic.Length];
        file.Position = dbLength;
        await file.ReadExactlyAsync(magic, cancellationToken).ConfigureAwait(false);
        return magic.AsSpan().SequenceEqual(SnapshotFileFormat.Magic);
    }

    /// <summary>The bbolt file's length (high-water page × page size, from its newest valid meta page: <see cref="BboltReader"/>),
    /// or null when the stream does not start with a bbolt meta page. Throws <see cref="SnapshotFileException"/>
    /// (Truncated) when the stream is shorter than that length.</summary>
    public static long? BboltLength(Stream file)
    {
        try
        {
            var db = new BboltReader(file);
            return db.HighWater * db.PageSize;
        }
        catch (SnapshotFileException e) when (e.Error == SnapshotFileError.Corrupt)
        {
            return null; // no valid meta page: not a bbolt file
        }
    }

    private static FileStream TempFile()
        => new(Path.Combine(Path.GetTempPath(), $"raftkv-etcd-db-{Guid.NewGuid():N}"), FileMode.CreateNew, FileAccess.ReadWrite, FileShare.None, 1 << 16, FileOptions.DeleteOnClose);

    private static async Task CopyAsync(Stream from, Stream to, long length, CancellationToken cancellationToken)
    {
        var buffer = new byte[1 << 16];
        while (length > 0)
        {
            var n = await from.ReadAsync(buffer.AsMemory(0, (int)Math.Min(buffer.Length, length)), cancellationToken).ConfigureAwait(false);
            if (n == 0)
            {
                throw new SnapshotFileException(SnapshotFileError.Truncated, "the snapshot ends early");
            }

            await to.WriteAsync(buffer.AsMemory(0, n), cancellationToken).ConfigureAwait(false);
            length -= n;
        }
    }
}
