using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using Google.Protobuf;
using RaftKv.Replication.Api;

namespace RaftKv.Server.Backup.Bbolt;

/// <summary>
/// This member's store in etcd's backend schema (etcd 3.4/3.5 <c>mvcc/backend</c> buckets), written as a bbolt file by
/// <see cref="BboltWriter"/>: what <c>etcdctl snapshot status</c> reads and <c>etcdctl snapshot restore</c> turns into a
/// data directory a real etcd starts from.
/// </summary>
/// <remarks>
/// <para>Buckets: <c>key</c> — one record per revision change, key <c>main u64be '_' sub u64be</c> (+ <c>'t'</c> for a
/// delete), value an <c>mvccpb.KeyValue</c> (a delete's holds only the key), exactly etcd's: below the compact
/// revision C the version of every key live at C (what etcd's compaction keeps; subs numbered in key order within a
/// revision), above it every change of the history in etcd's event order; <c>lease</c> — lease id u64be →
/// <c>leasepb.Lease{ID, TTL}</c>; <c>meta</c> — <c>consistent_index</c> (the Raft index of the snapshot, u64be) and, once
/// compacted, <c>scheduledCompactRev</c>/<c>finishedCompactRev</c> (C as a revision key); <c>auth</c>,
/// <c>authUsers</c>, <c>authRoles</c> — the users, roles, permissions, enabled flag and auth revision
/// (<c>EtcdBackendExport.Auth.cs</c>: bcrypt passwords carried, Argon2id ones exported as no usable password);
/// <c>members</c>, <c>members_removed</c>, <c>cluster</c>, <c>alarm</c> — present and empty.</para>
/// <para>Read at this member's applied revision when the call runs (serializable, after the snapshot's own read
/// barrier; the auth state as applied then), from one pinned view per pass: the compacted base through <see cref="IKvNode.ReadKeyspaceAsync"/>, the
/// history through <see cref="IKvNode.ReadRevisionsAsync"/> in windows of <see cref="Window"/> revisions. The base is
/// sorted by revision through a temporary file (memory: about 24 bytes per live key). A compaction past C during the
/// export fails it (<see cref="RevisionCompactedException"/>; the client retries).</para>
/// </remarks>
public static partial class EtcdBackendExport
{
    private const int Window = 256;
    private static readonly byte[] AllKeys = [0];

    /// <summary>Writes the bbolt file to <paramref name="output"/> (seekable); returns its length.</summary>
    public static async Task<long> WriteAsync(IKvNode node, long raftIndex, Stream output, CancellationToken cancellationToken)
    {
        var revision = node.Revision;
        var compacted = node.CompactRevision;
        var auth = node.Auth;
        var writer = new BboltWriter(output);
        await writer.AddBucketAsync("key"u8.ToArray(), KeyBucketAsync(node, compacted, revision, cancellationToken), cancellationToken).ConfigureAwait(false);

        var leases = new List<(byte[], byte[])>();
        foreach (var (id, ttl) in await node.LeaseTtlsAsync(ReadConsistency.Serializable, cancellationToken).ConfigureAwait(false))
        {
            var key = new byte[8];
            BinaryPrimitives.WriteInt64BigEndian(key, id);
            leases.Add((key, LeaseRecord(id, ttl)));
        }

        await writer.AddBucketAsync("lease"u8.ToArray(), leases.ToAsyncEnumerable(), cancellationToken).ConfigureAwait(false);

        var index = new byte[8];
        BinaryPrimitives.WriteInt64BigEndian(index, raftIndex);
        var meta = new List<(byte[], byte[])> { ("consistent_index"u8.ToArray(), index) };
        if (compacted > 0)
        {
            meta.Add(("finishedCompactRev"u8.ToArray(), RevisionKey(compacted, 0, tombstone: false)));
            meta.Add(("scheduledCompactRev"u8.ToArray(), RevisionKey(compacted, 0, tombstone: false)));
        }

        meta.Sort((a, b) => a.Item1.AsSpan().SequenceCompareTo(b.Item1));
        await writer.AddBucketAsync("meta"u8.ToArray(), meta.ToAsyncEnumerable(), cancellationToken).ConfigureAwait(false);
        foreach (var empty in new[] { "members", "members_removed", "cluster", "alarm" })
        {
            await writer.AddBucketAsync(System.Text.Encoding.ASCII.GetBytes(empty), AsyncEnumerable.Empty<(byte[], byte[])>(), cancellationToken).ConfigureAwait(false);
        }

        await writer.AddBucketAsync("auth"u8.ToArray(), AuthBucket(auth).ToAsyncEnumerable(), cancellationToken).ConfigureAwait(false);
        await writer.AddBucketAsync("authUsers"u8.ToArray(), UsersBucket(auth).ToAsyncEnumerable(), cancellationToken).ConfigureAwait(false);
        await writer.AddBucketAsync("authRoles"u8.ToArray(), RolesBucket(auth).ToAsyncEnumerable(), cancellationToken).ConfigureAwait(false);

        return writer.Complete();
    }

    /// <summary>etcd's revision key: main u64be, '_', sub u64be, and 't' for a tombstone (mvcc/revision.go, kvstore.go).</summary>
    public static byte[] RevisionKey(long main, long sub, bool tombstone)
    {
        var key = new byte[tombstone ? 18 : 17];
        BinaryPrimitives.WriteInt64BigEndian(key, main);
        key[8] = (byte)'_';
        BinaryPrimitives.WriteInt64BigEndian(key.AsSpan(9), sub);
        if (tombstone)
        {
            key[17] = (byte)'t';
        }

        return key;
    }

    private static async IAsyncEnumerable<(byte[] Key, byte[] Value)> KeyBucketAsync(IKvNode node, long compacted, long revision,
        [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        if (compacted > 0)
        {
            await foreach (var item in CompactedBaseAsync(node, compacted, cancellationToken).ConfigureAwait(false))
            {
                yield return item;
            }
        }

        for (var from = compacted + 1; from <= revision; from += Window)
        {
            var to = Math.Min(revision, from + Window - 1);
            foreach (var (rev, events) in await node.ReadRevisionsAsync(AllKeys, AllKeys, from, to, prevKv: false, cancellationToken).ConfigureAwait(false))
            {
                for (var sub = 0; sub < events.Count; sub++)
                {
                    var e = events[sub];
                    var delete = e.Type == MvccEventType.Delete;
                    yield return (RevisionKey(rev, sub, delete), delete ? Tombstone(e.Kv.Key) : Record(e.Kv));
                }
            }
        }
    }

    /// <summary>The keys live at <paramref name="compacted"/>, in (mod revision, key) order, through a temporary file.</summary>
    private static async IAsyncEnumerable<(byte[] Key, byte[] Value)> CompactedBaseAsync(IKvNode node, long compacted,
        [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var path = Path.Combine(Path.GetTempPath(), $"raftkv-etcd-export-{Guid.NewGuid():N}");
        var spill = new FileStream(path, FileMode.CreateNew, FileAccess.ReadWrite, FileShare.None, 1 << 16, FileOptions.DeleteOnClose);
        await using (spill.ConfigureAwait(false))
        {
            var index = new List<(long Mod, int Order, long Offset, int Length)>();
            var read = await node.ReadKeyspaceAsync(compacted, ReadConsistency.Serializable, cancellationToken).ConfigureAwait(false);
            await foreach (var kv in read.Keys.WithCancellation(cancellationToken).ConfigureAwait(false))
            {
                var record = Record(kv);
                index.Add((kv.ModRevision, index.Count, spill.Position, record.Length));
                await spill.WriteAsync(record, cancellationToken).ConfigureAwait(false);
            }

            index.Sort((a, b) => a.Mod != b.Mod ? a.Mod.CompareTo(b.Mod) : a.Order.CompareTo(b.Order));
            long previous = -1, sub = 0;
            foreach (var (mod, _, offset, length) in index)
            {
                sub = mod == previous ? sub + 1 : 0;
                previous = mod;
                var value = new byte[length];
                spill.Position = offset;
                await spill.ReadExactlyAsync(value, cancellationToken).ConfigureAwait(false);
                yield return (RevisionKey(mod, sub, tombstone: false), value);
            }
        }
    }

    private static byte[] Record(KeyValue kv) => new RaftKv.Protocol.Etcd.Mvccpb.KeyValue
    {
        Key = ByteString.CopyFrom(kv.Key.Span),
        CreateRevision = kv.CreateRevision,
        ModRevision = kv.ModRevision,
        Version = kv.Version,
        Value = ByteString.CopyFrom(kv.Value.Span),
        Lease = kv.Lease,
    }.ToByteArray();

    private static byte[] Tombstone(ReadOnlyMemory<byte> key) => new RaftKv.Protocol.Etcd.Mvccpb.KeyValue { Key = ByteString.CopyFrom(key.Span) }.ToByteArray();

    /// <summary>leasepb.Lease{ID = 1, TTL = 2} (etcd's lease/leasepb/lease.proto; RemainingTTL 0: the full TTL).</summary>
    private static byte[] LeaseRecord(long id, long ttl)
    {
        using var buffer = new MemoryStream();
        var output = new CodedOutputStream(buffer);
        output.WriteTag(1, WireFormat.WireType.Varint);
        output.WriteInt64(id);
        output.WriteTag(2, WireFormat.WireType.Varint);
        output.WriteInt64(ttl);
        output.Flush();
        return buffer.ToArray();
    }

}
