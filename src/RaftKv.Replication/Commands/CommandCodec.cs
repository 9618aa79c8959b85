using System.Text;
using RaftKv.Replication.Api;
using RaftKv.Storage;

namespace RaftKv.Replication.Commands;

/// <summary>
/// Compact, versioned binary encoding of <see cref="KvCommand"/> (the Raft log entry payload).
/// </summary>
/// <remarks>
/// Layout: <c>magic:u8 (0x4B 'K') version:u8 kind:u8 timestamp:varint requestId:optbytes</c>, then
/// for a Txn: <c>compares:varint compare* success:varint op* failure:varint op*</c>.
/// <c>compare := key:bytes target:u8 op:u8 version:varint value:optbytes exists:u8</c>;
/// <c>op := kind:u8 key:bytes value:optbytes rangeEnd:optbytes flags:u8 (bit0 prefix, bit1 prevKv, bit2 lease) ttlMs:varint [lease:varint when bit2]</c>
/// (bit2 is set only for a put with a lease, which older nodes never see unless a lease was granted).
/// <c>bytes := length:varint data</c>; <c>optbytes := (length+1):varint data</c> with 0 meaning null.
/// <para>Version 2 (written only when the command carries <see cref="KvCommand.Resolved"/>, so
/// commands without value compares stay readable by version-1 nodes during a rolling upgrade)
/// appends after the failure ops one record per compare:
/// <c>resolved := state:u8 (0 none | 1 false | 2 true) [version:varint when state ≠ 0]</c>
/// (<see cref="ResolvedCompare"/>). Version 1 entries decode with <c>Resolved = null</c>.</para>
/// <para>Lease kinds (<see cref="CommandKind.LeaseGrant"/> 16, <see cref="CommandKind.LeaseRevoke"/> 17; added
/// with leases, issue #14) use the version-1 header and carry <c>id:varint ttlSeconds:varint</c> after it
/// (<see cref="Leases.LeaseCommand"/>). A node older than leases refuses them as an unknown kind (fail-stop):
/// upgrade every node before granting leases.</para>
/// A payload with another magic or a version above <see cref="CurrentVersion"/> is rejected with
/// <see cref="UnsupportedCommandVersionException"/>: a node must never guess at entries written by a newer release.
/// </remarks>
public static class CommandCodec
{
    public const byte Magic = 0x4B;

    /// <summary>The newest version this node writes and reads (it reads every version from 1 on).</summary>
    public const byte CurrentVersion = 2;

    /// <summary>The version written for commands without resolved compares.</summary>
    public const byte BaseVersion = 1;

    public static byte[] Encode(KvCommand command)
    {
        var resolved = command.Kind == CommandKind.Txn ? command.Resolved : null;
        if (resolved is not null && resolved.Count != command.Txn?.Compares.Count)
        {
            throw new ArgumentException("one resolution per compare is required", nameof(command));
        }

        var b = new List<byte>(64);
        b.Add(Magic);
        b.Add(resolved is null ? BaseVersion : CurrentVersion);
        b.Add((byte)command.Kind);
        Varint.Write(b, (ulong)command.TimestampUnixMs);
        WriteOpt(b, command.RequestId is null ? null : Encoding.UTF8.GetBytes(command.RequestId));
        if (command.Kind == CommandKind.Txn)
        {
            var txn = command.Txn ?? throw new ArgumentException("txn command without a transaction", nameof(command));
            Varint.Write(b, (ulong)txn.Compares.Count);
            foreach (var c in txn.Compares)
            {
                Varint.WriteBytes(b, c.Key);
                b.Add((byte)c.Target);
                b.Add((byte)c.Op);
                Varint.Write(b, (ulong)c.Version);
                WriteOpt(b, c.Value);
                b.Add(c.Exists ? (byte)1 : (byte)0);
            }

            WriteOps(b, txn.Success);
            WriteOps(b, txn.Failure);
            foreach (var r in resolved ?? [])
            {
                if (r is null)
                {
                    b.Add(0);
                    continue;
                }

                b.Add(r.Holds ? (byte)2 : (byte)1);
                Varint.Write(b, (ulong)r.Version);
            }
        }
        else if (command.Kind is CommandKind.LeaseGrant or CommandKind.LeaseRevoke)
        {
            var lease = command.Lease ?? throw new ArgumentException("lease command without a body", nameof(command));
            Varint.Write(b, (ulong)lease.Id);
            Varint.Write(b, (ulong)lease.TtlSeconds);
        }

        return b.ToArray();
    }

    public static KvCommand Decode(ReadOnlySpan<byte> data)
    {
        if (data.Length < 3 || data[0] != Magic)
        {
            throw new UnsupportedCommandVersionException($"log entry is not a RaftKv command (first byte 0x{(data.Length > 0 ? data[0] : 0):X2})");
        }

        var version = data[1];
        if (version is < BaseVersion or > CurrentVersion)
        {
            throw new UnsupportedCommandVersionException($"log entry has command format version {version}; this node understands versions {BaseVersion} to {CurrentVersion}");
        }

        var p = data.ToArray();
        var pos = 2;
        var kind = (CommandKind)p[pos++];
        var ts = (long)Varint.Read(p, ref pos);
        var rid = ReadOpt(p, ref pos) is { } r ? Encoding.UTF8.GetString(r) : null;
        switch (kind)
        {
            case CommandKind.Tick:
                return new KvCommand(kind, ts, rid, null);
            case CommandKind.LeaseGrant or CommandKind.LeaseRevoke:
                var leaseId = (long)Varint.Read(p, ref pos);
                var leaseTtl = (long)Varint.Read(p, ref pos);
                return new KvCommand(kind, ts, rid, null, Lease: new Leases.LeaseCommand(leaseId, leaseTtl));
            case CommandKind.Txn:
                var n = (int)Varint.Read(p, ref pos);
                var compares = new List<KvCompare>(n);
                for (var i = 0; i < n; i++)
                {
                    var key = Varint.ReadBytes(p, ref pos);
                    var target = (CompareTarget)p[pos++];
                    var op = (CompareOp)p[pos++];
                    var compareVersion = (long)Varint.Read(p, ref pos);
                    var value = ReadOpt(p, ref pos);
                    var exists = p[pos++] != 0;
                    compares.Add(new KvCompare(key, target, op, compareVersion, value, exists));
                }

                var success = ReadOps(p, ref pos);
                var failure = ReadOps(p, ref pos);
                List<ResolvedCompare?>? resolved = null;
                if (version >= 2)
                {
                    resolved = new List<ResolvedCompare?>(n);
                    for (var i = 0; i < n; i++)
                    {
                        var state = p[pos++];
                        resolved.Add(state switch
                        {
                            0 => null,
                            1 or 2 => new ResolvedCompare((long)Varint.Read(p, ref pos), state == 2),
                            _ => throw new UnsupportedCommandVersionException($"unknown compare resolution {state}"),
                        });
                    }
                }

                return new KvCommand(kind, ts, rid, new KvTxn(compares, success, failure, rid), resolved);
            default:
                throw new UnsupportedCommandVersionException($"unknown command kind {(byte)kind}");
        }
    }

    private static void WriteOps(List<byte> b, IReadOnlyList<KvOp> ops)
    {
        Varint.Write(b, (ulong)ops.Count);
        foreach (var op in ops)
        {
            b.Add((byte)op.Kind);
            Varint.WriteBytes(b, op.Key);
            WriteOpt(b, op.Value);
            WriteOpt(b, op.RangeEnd);
            b.Add((byte)((op.Prefix ? 1 : 0) | (op.PrevKv ? 2 : 0) | (op.Lease != 0 ? 4 : 0)));
            Varint.Write(b, (ulong)op.TtlMs);
            if (op.Lease != 0)
            {
                Varint.Write(b, (ulong)op.Lease);
            }
        }
    }

    private static List<KvOp> ReadOps(byte[] p, ref int pos)
    {
        var n = (int)Varint.Read(p, ref pos);
        var ops = new List<KvOp>(n);
        for (var i = 0; i < n; i++)
        {
            var kind = (KvOpKind)p[pos++];
            var key = Varint.ReadBytes(p, ref pos);
            var value = ReadOpt(p, ref pos);
            var end = ReadOpt(p, ref pos);
            var flags = p[pos++];
            var ttl = (long)Varint.Read(p, ref pos);
            var lease = (flags & 4) != 0 ? (long)Varint.Read(p, ref pos) : 0;
            ops.Add(new KvOp(kind, key, value, end, (flags & 1) != 0, ttl, (flags & 2) != 0, Lease: lease));
        }

        return ops;
    }

    private static void WriteOpt(List<byte> b, byte[]? data)
    {
        if (data is null)
        {
            Varint.Write(b, 0);
            return;
        }

        Varint.Write(b, (ulong)data.Length + 1);
        b.AddRange(data);
    }

    private static byte[]? ReadOpt(byte[] p, ref int pos)
    {
        var n = (int)Varint.Read(p, ref pos);
        if (n == 0)
        {
            return null;
        }

        var r = p.AsSpan(pos, n - 1).ToArray();
        pos += n - 1;
        return r;
    }
}
