using System.Buffers.Binary;
using RaftKv.Storage;

namespace RaftKv.Replication.State;

/// <summary>
/// How the MVCC model (etcd's: revisions, per-key create/mod/version/lease, history) is laid out in
/// the LSM. Layout version 3 (issue #18: large values kept once; version 2 (issue #14) kept every value twice, version 1
/// had no revision index, see below). Everything lives in ordinary LSM entries written by the
/// apply loop in the same atomic <see cref="IKvStore.Apply"/> batch as the change itself, so it is
/// part of every flush, checkpoint (= Raft snapshot), restart and archived table.
/// </summary>
/// <remarks>
/// <para>Three records per change of a user key <c>k</c> at revision <c>R</c>:</para>
/// <list type="number">
/// <item><c>k → value</c> (put) or a tombstone (delete): the current value, exactly as before MVCC, so a
/// GET of the current value is one lookup and current range scans read user keys only. Its LSM
/// version is the Raft index (storage's own stamp), not a revision. Layout version 3: a value of at least
/// <see cref="LargeValueMinBytes"/> bytes put by a command of <see cref="Commands.CommandCodec.ValueOnceVersion"/> is
/// kept <b>once</b>, in its history record; <c>k</c> then holds no bytes and the metadata says so
/// (<see cref="KeyMeta.ValueInHistory"/>), and a read of the current value reads the history record at the key's mod
/// revision instead (an exact key, so one lookup like <c>k</c>'s). The decision comes from the command, so every replica
/// lays the same write out the same way; readers understand both ways on every key.</item>
/// <item><c>0x00 0xFF "m/" k → meta</c> (put; tombstone on delete): the key's current metadata,
/// <c>fmt:u8 (1) create:varint mod:varint version:varint lease:varint</c> (≤ 37 bytes), or, for a value kept once,
/// <c>fmt:u8 (2) create:varint mod:varint version:varint lease:varint flags:varint (bit0 value in history)</c>, with the same
/// TTL expiry as the value. It is at most <see cref="Storage.Tables.KeysFile.InlineValueMaxBytes"/>
/// bytes, so keys files of archived tables inline it: the apply loop reads it with
/// <see cref="IKvStore.GetMetadata"/> and never waits on the object store (the value may be archived;
/// the metadata never is out of reach). Why a separate record rather than a header in the value: a
/// header inside a large archived value would be unreadable without S3 at apply.</item>
/// <item><c>0x00 0xFF "h/" esc(k) 0x00 0x01 ~R:u64be → hist</c>: one immutable record per version,
/// <c>fmt:u8 (1) type:u8 (0 put | 1 delete) create:varint version:varint lease:varint
/// expiresAtUnixMs:varint value</c> (a delete has only fmt and type). <c>esc</c> maps 0x00 to 0x00 0xFF (order-preserving; the
/// terminator 0x00 0x01 sorts a key before its extensions), <c>~R</c> = <c>ulong.MaxValue - R</c>
/// big-endian so a key's newest record comes first: the version of <c>k</c> at revision <c>A</c> is
/// the first record at or after <c>h/ esc(k) 0x00 0x01 ~A</c> with the same key part. History
/// records never expire in the LSM (a TTL put's expiry is inside the record; reads at a revision treat an
/// expired put as absent, a watch still reports it). They are never overwritten (one change per key per
/// revision: etcd's duplicate-key rule), so dropping one physically can never resurrect another. Physically, a record
/// of at least <see cref="KvNodeOptions.HistoryValueFileMinBytes"/> bytes is flushed to a value file (node-local,
/// <c>LsmOptions.ValueFileRules</c>): written once and read rarely, it then moves through compactions as a pointer.</item>
/// <item><c>0x00 0xFF "i/" R:u64be sub:u32be k → empty</c> (layout version 2): the revision index, like etcd's
/// bbolt keys (main, sub). <c>sub</c> is the change's position in its transaction's op order (nested txns
/// in execution order; a DeleteRange's keys in key order; a lease revoke's deletes in key order), so a scan
/// of <c>[i/ from, i/ to+1)</c> lists exactly the changes of revisions [from, to] in etcd's event order
/// without reading any other revision. The user key is in the record key and the value is empty, so the
/// scan is keys-only (<see cref="IKvStore.ScanMetadata"/>, never the object store). Written in the same
/// batch as the history record; removed by compaction below the compact revision
/// (<see cref="HistoryCompactionFilter"/>); carried by checkpoints like every record.</item>
/// </list>
/// <para>Store-wide: <c>0x00 0xFF "revidx" → indexFrom:i64le</c>: the first revision whose changes have
/// revision index records (written with the first change a layout-2 node applies to a store that has no
/// such record; node-local like every reserved record, outside the state hash). Revisions below it were
/// written by layout 1: their changes are found by scanning the history of the watched range, and events
/// within such a revision come in KEY order (layout 1 kept no op order), documented in docs/api.md.</para>
/// <para>Store-wide: <c>0x00 0xFF "rev" → revision:i64le compactRevision:i64le</c>, written by every
/// revision-changing or compacting entry. An empty store is at revision 1 (etcd's initial revision).</para>
/// <para>Keys written before MVCC (no <c>m/</c> record) read as create = mod = 1, version = 1, lease 0.</para>
/// </remarks>
internal static class MvccLayout
{
    public const byte FormatVersion = 1;

    /// <summary>The metadata record format of a key whose value is kept once, in its history record.</summary>
    public const byte MetaFormatFlags = 2;

    /// <summary>Flag bit of a <see cref="MetaFormatFlags"/> metadata record: the value is in the history record.</summary>
    private const ulong MetaFlagValueInHistory = 1;

    /// <summary>The smallest value kept once (layout version 3): below it, the second copy costs less than the second
    /// lookup a read of a value kept once makes. 4 KiB: a data block.</summary>
    public const int LargeValueMinBytes = 4096;

    public static readonly byte[] MetaPrefix = [.. ReservedKeys.Prefix, (byte)'m', (byte)'/'];

    public static readonly byte[] HistoryPrefix = [.. ReservedKeys.Prefix, (byte)'h', (byte)'/'];

    public static readonly byte[] RevisionKey = [.. ReservedKeys.Prefix, (byte)'r', (byte)'e', (byte)'v'];

    public static readonly byte[] IndexPrefix = [.. ReservedKeys.Prefix, (byte)'i', (byte)'/'];

    public static readonly byte[] IndexFromKey = [.. ReservedKeys.Prefix, .. "revidx"u8];

    public static byte[] MetaKey(ReadOnlySpan<byte> key) => [.. MetaPrefix, .. key];

    /// <summary>The revision index record of the <paramref name="sub"/>-th change of <paramref name="revision"/>.</summary>
    public static byte[] IndexKey(long revision, int sub, ReadOnlySpan<byte> key)
    {
        var b = new byte[IndexPrefix.Length + 12 + key.Length];
        IndexPrefix.CopyTo(b, 0);
        BinaryPrimitives.WriteUInt64BigEndian(b.AsSpan(IndexPrefix.Length), (ulong)revision);
        BinaryPrimitives.WriteUInt32BigEndian(b.AsSpan(IndexPrefix.Length + 8), (uint)sub);
        key.CopyTo(b.AsSpan(IndexPrefix.Length + 12));
        return b;
    }

    /// <summary>The first revision index key of <paramref name="revision"/>.</summary>
    public static byte[] IndexBound(long revision)
    {
        var b = new byte[IndexPrefix.Length + 8];
        IndexPrefix.CopyTo(b, 0);
        BinaryPrimitives.WriteUInt64BigEndian(b.AsSpan(IndexPrefix.Length), (ulong)revision);
        return b;
    }

    /// <summary>The revision of a revision index key (null when <paramref name="key"/> is not one).</summary>
    public static long? IndexRevision(ReadOnlySpan<byte> key)
        => key.Length >= IndexPrefix.Length + 12 && key.StartsWith(IndexPrefix) ? (long)BinaryPrimitives.ReadUInt64BigEndian(key[IndexPrefix.Length..]) : null;

    /// <summary>The user key of a revision index key.</summary>
    public static ReadOnlySpan<byte> IndexUserKey(ReadOnlySpan<byte> key) => key[(IndexPrefix.Length + 12)..];

    /// <summary><c>h/ esc(key)</c> (no terminator): the lower bound of a range starting at <paramref name="key"/>.</summary>
    public static byte[] HistoryBound(ReadOnlySpan<byte> key)
    {
        var b = new List<byte>(HistoryPrefix.Length + key.Length + 4);
        b.AddRange(HistoryPrefix);
        Escape(b, key);
        return [.. b];
    }

    /// <summary>The first history key of <paramref name="key"/> at or below <paramref name="revision"/>.</summary>
    public static byte[] HistoryKey(ReadOnlySpan<byte> key, long revision)
    {
        var escaped = key.Length + key.Count((byte)0x00);
        var b = new byte[HistoryPrefix.Length + escaped + 10];
        HistoryPrefix.CopyTo(b, 0);
        var pos = Escape(b.AsSpan(HistoryPrefix.Length), key) + HistoryPrefix.Length;
        b[pos++] = 0x00;
        b[pos++] = 0x01;
        BinaryPrimitives.WriteUInt64BigEndian(b.AsSpan(pos), ulong.MaxValue - (ulong)revision);
        return b;
    }

    /// <summary>The history range of every key in [start, end) (empty end = unbounded).</summary>
    public static (byte[] Start, byte[] End) HistoryRange(ReadOnlySpan<byte> start, ReadOnlySpan<byte> end)
        => (HistoryBound(start), end.IsEmpty ? Api.KeyRanges.PrefixEnd(HistoryPrefix) : HistoryBound(end));

    /// <summary>Splits a history key into the user key and the revision.</summary>
    public static (byte[] Key, long Revision) ParseHistoryKey(ReadOnlySpan<byte> historyKey)
    {
        var s = historyKey[HistoryPrefix.Length..];
        var key = new List<byte>(s.Length);
        var i = 0;
        while (true)
        {
            if (s[i] == 0x00)
            {
                if (s[i + 1] == 0x01)
                {
                    break;
                }

                key.Add(0x00);
                i += 2;
                continue;
            }

            key.Add(s[i++]);
        }

        var rev = ulong.MaxValue - BinaryPrimitives.ReadUInt64BigEndian(s[(i + 2)..]);
        return ([.. key], (long)rev);
    }

    public static byte[] EncodeMeta(in KeyMeta m)
    {
        Span<byte> b = stackalloc byte[42];
        b[0] = m.ValueInHistory ? MetaFormatFlags : FormatVersion;
        var pos = 1;
        pos += Varint.Write(b[pos..], (ulong)m.Create);
        pos += Varint.Write(b[pos..], (ulong)m.Mod);
        pos += Varint.Write(b[pos..], (ulong)m.Version);
        pos += Varint.Write(b[pos..], (ulong)m.Lease);
        if (m.ValueInHistory)
        {
            pos += Varint.Write(b[pos..], MetaFlagValueInHistory);
        }

        return b[..pos].ToArray();
    }

    public static KeyMeta DecodeMeta(ReadOnlySpan<byte> data, long expires)
    {
        if (data.Length < 1 || data[0] is not (FormatVersion or MetaFormatFlags))
        {
            throw new FormatException("unknown MVCC metadata record format");
        }

        var pos = 1;
        var create = (long)Varint.Read(data, ref pos);
        var mod = (long)Varint.Read(data, ref pos);
        var version = (long)Varint.Read(data, ref pos);
        var lease = (long)Varint.Read(data, ref pos);
        var flags = data[0] == MetaFormatFlags ? Varint.Read(data, ref pos) : 0;
        return new KeyMeta(create, mod, version, lease, expires, (flags & MetaFlagValueInHistory) != 0);
    }

    public static byte[] EncodeHistoryPut(in KeyMeta m, ReadOnlySpan<byte> value)
    {
        var head = HistoryPutHeader(m);
        var b = new byte[head.Length + value.Length];
        head.CopyTo(b, 0);
        value.CopyTo(b.AsSpan(head.Length));
        return b;
    }

    /// <summary>The bytes of a history put record before its value (the apply loop writes the two parts without
    /// concatenating them: <see cref="WriteOp.Put(ReadOnlyMemory{byte}, ReadOnlyMemory{byte}, ReadOnlyMemory{byte}, long)"/>).</summary>
    public static byte[] HistoryPutHeader(in KeyMeta m)
    {
        Span<byte> head = stackalloc byte[42];
        head[0] = FormatVersion;
        head[1] = 0;
        var pos = 2;
        pos += Varint.Write(head[pos..], (ulong)m.Create);
        pos += Varint.Write(head[pos..], (ulong)m.Version);
        pos += Varint.Write(head[pos..], (ulong)m.Lease);
        pos += Varint.Write(head[pos..], (ulong)m.ExpiresAtUnixMs);
        return head[..pos].ToArray();
    }

    public static readonly byte[] HistoryDelete = [FormatVersion, 1];

    /// <summary>The value of a history put record (a slice of <paramref name="record"/>); null for a delete.</summary>
    public static ReadOnlyMemory<byte>? HistoryValue(ReadOnlyMemory<byte> record)
        => DecodeHistory([], 0, record, Tier.Memory) is { } kv ? kv.Value : null;

    /// <summary>Decodes a history record of <paramref name="key"/> at <paramref name="revision"/>:
    /// null for a delete.</summary>
    public static Api.KeyValue? DecodeHistory(byte[] key, long revision, ReadOnlyMemory<byte> record, Tier tier)
    {
        var s = record.Span;
        if (s.Length < 2 || s[0] != FormatVersion)
        {
            throw new FormatException("unknown MVCC history record format");
        }

        if (s[1] == 1)
        {
            return null;
        }

        var pos = 2;
        var create = (long)Varint.Read(s, ref pos);
        var version = (long)Varint.Read(s, ref pos);
        var lease = (long)Varint.Read(s, ref pos);
        var expires = (long)Varint.Read(s, ref pos);
        return new Api.KeyValue(key, record[pos..], create, revision, version, lease, expires, tier);
    }

    public static byte[] EncodeRevision(long revision, long compactRevision)
    {
        var b = new byte[16];
        BinaryPrimitives.WriteInt64LittleEndian(b, revision);
        BinaryPrimitives.WriteInt64LittleEndian(b.AsSpan(8), compactRevision);
        return b;
    }

    public static byte[] EncodeIndexFrom(long revision)
    {
        var b = new byte[8];
        BinaryPrimitives.WriteInt64LittleEndian(b, revision);
        return b;
    }

    /// <summary>Writes <c>esc(key)</c> at the start of <paramref name="output"/> (room for every 0x00 doubled); returns its length.</summary>
    private static int Escape(Span<byte> output, ReadOnlySpan<byte> key)
    {
        var n = 0;
        foreach (var x in key)
        {
            output[n++] = x;
            if (x == 0x00)
            {
                output[n++] = 0xFF;
            }
        }

        return n;
    }

    private static void Escape(List<byte> b, ReadOnlySpan<byte> key)
    {
        foreach (var x in key)
        {
            b.Add(x);
            if (x == 0x00)
            {
                b.Add(0xFF);
            }
        }
    }
}
