using System.Buffers.Binary;
using System.Security.Cryptography;
using Google.Protobuf;
using RaftKv.Replication.Backup;

namespace RaftKv.Server.Backup.Bbolt;

/// <summary>
/// Reads etcd's own snapshot (<c>etcdctl snapshot save</c> against etcd 3.4/3.5: its bbolt backend, then its SHA-256
/// when the length is 32 modulo 512) for <see cref="EtcdImport"/>: the migration etcd → RaftKv. The schema is
/// <see cref="EtcdBackendExport"/>'s: the <c>key</c> bucket (revision key → <c>mvccpb.KeyValue</c>), the <c>lease</c>
/// bucket (<c>leasepb.Lease</c>) and the compact revision in <c>meta</c> (the later of <c>finishedCompactRev</c> and
/// <c>scheduledCompactRev</c>: etcd finishes an interrupted compaction when it starts).
/// </summary>
/// <remarks>Also imported: users, roles, permissions and the auth flag from the <c>auth</c>, <c>authUsers</c> and
/// <c>authRoles</c> buckets (<c>EtcdBackendImport.Auth.cs</c>: etcd's bcrypt hashes become RaftKv's bcrypt records, so
/// the same passwords work). Not imported: members (membership comes from <c>PEERS</c>), alarms. The file is verified
/// (SHA-256) and the auth buckets are read and checked before anything is written.</remarks>
public static partial class EtcdBackendImport
{
    /// <summary>What was imported.</summary>
    /// <param name="Import">The restored member, its keys and its auth state.</param>
    /// <param name="Hashed">The file ended with etcd's SHA-256, which was verified.</param>
    /// <param name="UsersWithoutPassword">Users imported without a password record (etcd's <c>no_password</c>, or an
    /// empty hash): they authenticate only by TLS client certificate, as they did on etcd.</param>
    public sealed record Result(EtcdImportResult Import, bool Hashed, int UsersWithoutPassword);

    /// <summary>Imports the etcd snapshot <paramref name="path"/> into the empty or absent <paramref name="dataDir"/>.</summary>
    /// <exception cref="SnapshotFileException">A corrupt or truncated file, or not an etcd backend.</exception>
    /// <exception cref="RestoreTargetException">The target is not empty.</exception>
    public static async Task<Result> RestoreAsync(string path, string dataDir, ulong clusterId, ILoggerFactory loggers, IProgress<RestoreProgress>? progress, CancellationToken cancellationToken = default)
    {
        var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16, FileOptions.RandomAccess);
        await using (file.ConfigureAwait(false))
        {
            var hashed = file.Length % SnapshotFileFormat.Alignment == SnapshotFileFormat.ChecksumLength;
            if (hashed)
            {
                await VerifyAsync(file, progress, cancellationToken).ConfigureAwait(false);
            }

            var db = new BboltReader(file);
            var keys = db.Bucket("key"u8) ?? throw new SnapshotFileException(SnapshotFileError.NotASnapshot, "a bbolt database without etcd's key bucket: not an etcd backend");
            var leases = (db.Bucket("lease"u8) ?? []).Select(l => ParseLease(l.Value)).ToList();
            long compact = 0;
            foreach (var (k, v) in db.Bucket("meta"u8) ?? [])
            {
                if (k.AsSpan().SequenceEqual("finishedCompactRev"u8) || k.AsSpan().SequenceEqual("scheduledCompactRev"u8))
                {
                    compact = Math.Max(compact, RevisionOf(v).Main);
                }
            }

            var auth = ReadAuth(db);
            var import = await EtcdImport.RestoreAsync(keys.Select(Change), compact, leases, auth, dataDir, clusterId, loggers, progress, cancellationToken).ConfigureAwait(false);
            return new Result(import, hashed, auth.Users.Count(u => u.PasswordRecord is null));
        }
    }

    private static EtcdChange Change((byte[] Key, byte[] Value) item)
    {
        var (main, sub) = RevisionOf(item.Key);
        var tombstone = item.Key.Length == 18;
        RaftKv.Protocol.Etcd.Mvccpb.KeyValue kv;
        try
        {
            kv = RaftKv.Protocol.Etcd.Mvccpb.KeyValue.Parser.ParseFrom(item.Value);
        }
        catch (InvalidProtocolBufferException e)
        {
            throw new SnapshotFileException(SnapshotFileError.Corrupt, $"etcd's key bucket holds an unreadable record at revision {main}_{sub}: {e.Message}");
        }

        return tombstone
            ? new EtcdChange(main, sub, true, kv.Key.ToByteArray(), [], 0, 0, 0)
            : new EtcdChange(main, sub, false, kv.Key.ToByteArray(), kv.Value.ToByteArray(), kv.CreateRevision, kv.Version, kv.Lease);
    }

    /// <summary>etcd's revision key: main u64be '_' sub u64be, then 't' for a tombstone.</summary>
    private static (long Main, long Sub) RevisionOf(byte[] key)
    {
        if (key.Length is not (17 or 18) || key[8] != (byte)'_' || (key.Length == 18 && key[17] != (byte)'t'))
        {
            throw new SnapshotFileException(SnapshotFileError.Corrupt, $"etcd's key bucket holds a key of {key.Length} bytes that is not a revision");
        }

        return (BinaryPrimitives.ReadInt64BigEndian(key), BinaryPrimitives.ReadInt64BigEndian(key.AsSpan(9)));
    }

    /// <summary>leasepb.Lease{ID = 1, TTL = 2, RemainingTTL = 3}: the id and the granted TTL.</summary>
    private static (long Id, long TtlSeconds) ParseLease(byte[] value)
    {
        long id = 0, ttl = 0;
        try
        {
            var input = new CodedInputStream(value);
            for (uint tag; (tag = input.ReadTag()) != 0;)
            {
                switch (WireFormat.GetTagFieldNumber(tag))
                {
                    case 1: id = input.ReadInt64(); break;
                    case 2: ttl = input.ReadInt64(); break;
                    default: input.SkipLastField(); break;
                }
            }
        }
        catch (InvalidProtocolBufferException e)
        {
            throw new SnapshotFileException(SnapshotFileError.Corrupt, $"etcd's lease bucket holds an unreadable record: {e.Message}");
        }

        return (id, ttl);
    }

    /// <summary>etcd's snapshot ends with the SHA-256 of the bytes before it (what <c>etcdctl snapshot restore</c> checks).</summary>
    private static async Task VerifyAsync(FileStream file, IProgress<RestoreProgress>? progress, CancellationToken cancellationToken)
    {
        var length = file.Length - SnapshotFileFormat.ChecksumLength;
        progress?.Report(new RestoreProgress("verify", 0, length, "bytes"));
        using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        var buffer = new byte[1 << 16];
        file.Position = 0;
        for (long done = 0; done < length;)
        {
            var n = await file.ReadAsync(buffer.AsMemory(0, (int)Math.Min(buffer.Length, length - done)), cancellationToken).ConfigureAwait(false);
            sha.AppendData(buffer, 0, n);
            done += n;
            progress?.Report(new RestoreProgress("verify", done, length, "bytes"));
        }

        var expected = new byte[SnapshotFileFormat.ChecksumLength];
        await file.ReadExactlyAsync(expected, cancellationToken).ConfigureAwait(false);
        if (!sha.GetHashAndReset().AsSpan().SequenceEqual(expected))
        {
            throw new SnapshotFileException(SnapshotFileError.Corrupt, "etcd's snapshot does not match its SHA-256 (corrupt or truncated)");
        }
    }
}
