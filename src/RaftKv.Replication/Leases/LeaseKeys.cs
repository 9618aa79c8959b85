using System.Buffers.Binary;
using RaftKv.Replication.State;

namespace RaftKv.Replication.Leases;

/// <summary>
/// Where leases live in the LSM: under <see cref="ReservedKeys.Prefix"/> (0x00 0xFF), so they are part
/// of every snapshot and checkpoint, survive restarts, and are invisible to reads, ranges and deletes.
/// </summary>
/// <remarks>
/// On-disk format, version 1 (ids big-endian so a prefix scan lists them in id order):
/// <list type="bullet">
/// <item><c>0x00 0xFF "lease/" id:i64be</c> → <c>version:u8 (1) ttlSeconds:varint remainingSeconds:varint</c>
/// (remaining 0 = never checkpointed). At most 11 bytes for TTLs up to etcd's maximum (9e9 s, a 5-byte
/// varint), so archived tables keep the value in their local keys file (≤ 16 bytes) and apply never
/// needs the object store to read it.</item>
/// <item><c>0x00 0xFF "lkey/" id:i64be userKey</c> → empty: the key is attached to the lease (lease → keys index,
/// so revoke and TimeToLive never scan the keyspace).</item>
/// </list>
/// The key → lease direction is the key's MVCC metadata (<see cref="State.MvccLayout"/>, "m/" records):
/// a put or delete reads the key's current lease there and moves its attachment (<see cref="Reattach"/>).
/// </remarks>
internal static class LeaseKeys
{
    public const byte RecordVersion = 1;

    private static readonly byte[] LeasePrefix = [.. ReservedKeys.Prefix, .. "lease/"u8];
    private static readonly byte[] AttachPrefix = [.. ReservedKeys.Prefix, .. "lkey/"u8];

    /// <summary>[start, end) of every lease record.</summary>
    public static (byte[] Start, byte[] End) LeaseRange => (LeasePrefix, End(LeasePrefix));

    public static byte[] Lease(long id)
    {
        var k = new byte[LeasePrefix.Length + 8];
        LeasePrefix.CopyTo(k, 0);
        BinaryPrimitives.WriteInt64BigEndian(k.AsSpan(LeasePrefix.Length), id);
        return k;
    }

    public static long IdOfLease(ReadOnlySpan<byte> leaseKey) => BinaryPrimitives.ReadInt64BigEndian(leaseKey[LeasePrefix.Length..]);

    public static byte[] Attachment(long id, ReadOnlySpan<byte> userKey)
    {
        var k = new byte[AttachPrefix.Length + 8 + userKey.Length];
        AttachPrefix.CopyTo(k, 0);
        BinaryPrimitives.WriteInt64BigEndian(k.AsSpan(AttachPrefix.Length), id);
        userKey.CopyTo(k.AsSpan(AttachPrefix.Length + 8));
        return k;
    }

    /// <summary>[start, end) of the attachments of lease <paramref name="id"/>.</summary>
    public static (byte[] Start, byte[] End) Attachments(long id)
    {
        var start = Attachment(id, []);
        return (start, End(start));
    }

    public static byte[] UserKeyOfAttachment(ReadOnlySpan<byte> attachmentKey) => attachmentKey[(AttachPrefix.Length + 8)..].ToArray();

    /// <summary>Moves <paramref name="userKey"/>'s attachment from lease <paramref name="from"/> to lease
    /// <paramref name="to"/> (0 = none) in the batch <paramref name="ops"/>: a put with a lease attaches, a
    /// put without one or with another lease detaches (etcd), a delete detaches (to = 0).</summary>
    public static void Reattach(List<Storage.WriteOp> ops, byte[] userKey, long from, long to)
    {
        if (from == to)
        {
            return;
        }

        if (from != 0)
        {
            ops.Add(Storage.WriteOp.Delete(Attachment(from, userKey)));
        }

        if (to != 0)
        {
            ops.Add(Storage.WriteOp.Put(Attachment(to, userKey), Array.Empty<byte>()));
        }
    }

    public static byte[] EncodeRecord(long ttlSeconds, long remainingSeconds)
    {
        var b = new List<byte>(16) { RecordVersion };
        Storage.Varint.Write(b, (ulong)ttlSeconds);
        Storage.Varint.Write(b, (ulong)remainingSeconds);
        return [.. b];
    }

    public static (long TtlSeconds, long RemainingSeconds) DecodeRecord(ReadOnlySpan<byte> value)
    {
        if (value.Length < 3 || value[0] != RecordVersion)
        {
            throw new FormatException($"lease record has unknown format version {(value.Length > 0 ? value[0] : 0)}");
        }

        var pos = 1;
        var ttl = (long)Storage.Varint.Read(value, ref pos);
        var remaining = (long)Storage.Varint.Read(value, ref pos);
        return (ttl, remaining);
    }

    private static byte[] End(byte[] prefix) => Api.KeyRanges.PrefixEnd(prefix);
}
