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
/// <c>bytes := length:varint data</c>; <c>optbytes := (length+1):varint data</c> with 0 meaning null.
/// <para>Versions 1 and 2 (read only): <c>compare := key:bytes target:u8 op:u8 version:varint value:optbytes exists:u8</c>;
/// <c>op := kind:u8 key:bytes value:optbytes rangeEnd:optbytes flags:u8 (bit0 prefix, bit1 prevKv) ttlMs:varint</c>.
/// Version 2 appends after the failure ops one record per compare:
/// <c>resolved := state:u8 (0 none | 1 false | 2 true) [version:varint when state ≠ 0]</c>
/// (<see cref="ResolvedCompare"/>; its version is the key's Raft index then). In versions 1 and 2 compare
/// target 0 meant the Raft index of the key's last write: it decodes as <see cref="CompareTarget.Mod"/>.</para>
/// <para>Version 3 (MVCC, issue #14; every command is written in it):
/// <c>compare := key:bytes target:u8 op:u8 operand:varint value:optbytes exists:u8 rangeEnd:optbytes</c>
/// (operand = <see cref="KvCompare.Operand"/>, two's complement as u64);
/// <c>op := kind:u8 key:bytes value:optbytes rangeEnd:optbytes flags:u8 (bit0 prefix, bit1 prevKv,
/// bit2 ignoreValue, bit3 ignoreLease) ttlMs:varint lease:varint resolvedMod:varint [range] [txn]</c>
/// where <c>range</c> follows a Range op: <c>rangeEnd:optbytes limit:varint revision:varint sortOrder:u8
/// sortTarget:u8 flags:u8 (bit0 keysOnly, bit1 countOnly) minMod:varint maxMod:varint minCreate:varint
/// maxCreate:varint</c> (its key is the op's key), and <c>txn</c> (compares, success, failure as above)
/// follows a Txn op. After the failure ops: <c>resolvedCount:varint resolved*</c> over every compare depth
/// first (<see cref="KvCommand.AllCompares"/>; 0 = none), resolution versions being mod revisions (and the
/// store revision for a range value compare). A Compact command carries <c>revision:varint</c>.</para>
/// <para>Lease kinds (<see cref="CommandKind.LeaseGrant"/> 16, <see cref="CommandKind.LeaseRevoke"/> 17; leases,
/// issue #14; kinds 16-31 are reserved for leases) carry <c>id:varint ttlSeconds:varint</c> after the header
/// (<see cref="Leases.LeaseCommand"/>; a revoke's TTL is 0). They are written in version 3 like every command;
/// a node without leases refuses them as an unknown kind (fail-stop): upgrade every node before granting leases.</para>
/// <para>Kinds <see cref="CommandKind.HashCheck"/> 3 (no fields after the request id) and
/// <see cref="CommandKind.Alarm"/> 4 (<c>alarm := active:u8 type:u8 member:varint index:varint</c>,
/// <see cref="AlarmChange"/>; the corruption check): a node that predates them rejects the unknown
/// kind (and stops applying) rather than guess, so a leader proposes them only when every member
/// advertises support (<c>KvNode.Corruption.cs</c>). <see cref="CommandKind.Compact"/> is kind 5.</para>
/// <para>Kind <see cref="CommandKind.Learner"/> 6 (learners, issue #17): <c>learner := change:u8 id:varint
/// raft:bytes grpc:bytes http:bytes</c> (<see cref="LearnerChange"/>, addresses UTF-8, empty when unknown).
/// Written in version 3 (no format change: a new kind); a node that predates it refuses the unknown kind, so a
/// leader proposes it only when every member advertises the <c>learners</c> feature (<c>KvNode.Learners.cs</c>).</para>
/// <para>Kind <see cref="CommandKind.ClusterUid"/> 7 (the replicated cluster uid that tags backups):
/// <c>uid:bytes</c> (exactly 16 bytes; any other length is refused as malformed). Applied first-write-wins: it
/// sets the uid only when the state has none (a reserved key, in every snapshot). Written in version 3 (no format
/// change: a new kind); a node that predates it refuses the unknown kind (fail-stop), so a leader proposes it only
/// when every member advertises the <c>cluster-uid</c> feature (<c>KvNode.ClusterUid.cs</c>).</para>
/// <para>Auth kinds (<see cref="CommandKind.AuthEnable"/> 32 … <see cref="CommandKind.RoleRevokePermission"/> 42;
/// kinds 32-47 are reserved for auth, issue #16) carry <see cref="Auth.AuthChange"/> after the header:
/// <c>name:bytes role:optbytes secret:optbytes perm:u8 (0 none | 1 + permission type) [key:bytes rangeEnd:bytes when perm ≠ 0]</c>
/// (names UTF-8). <c>secret</c> is a password hash record or the token key, never a password. Written in
/// version 3; a node without auth refuses them as an unknown kind (fail-stop): upgrade every node first.
/// <see cref="CommandKind.SimpleToken"/> 43 carries the same body (the user's name, <c>secret</c> = the SHA-256 of the
/// token, never the token) followed by <c>revision:varint</c> (the auth revision the password was checked at); a node
/// that predates it refuses the unknown kind, so a member proposes it only when every member advertises the
/// <c>simple-token-log</c> feature (<c>KvNode.SimpleTokens.cs</c>).</para>
/// <para>Version 6 (<see cref="RangeRevisionVersion"/>): a Txn laid out and applied as in <see cref="ValueOnceVersion"/>
/// whose Range ops may carry a <c>revision</c> (the field is in the layout since version 3, always 0 before): such a
/// range reads the history at that revision, and before any op runs the apply checks every range of the branch path
/// taken against the revision before the txn and the compact revision, failing the whole txn (nothing but the
/// clock applied) with <c>FutureRevisionException</c> / <c>RevisionCompactedException</c> (etcd's
/// <c>checkRequests</c>). Written only for a txn with such a range, and only when every member lists the
/// <c>txn-range-revision</c> feature (<c>KvNode.Resolve.cs</c>): an older node would read at the txn's revision and
/// apply writes a newer one refuses, so it refuses the version (fail-stop) instead.</para>
/// A payload with another magic or a version above <see cref="NewestVersion"/> is rejected with
/// <see cref="UnsupportedCommandVersionException"/>: a node must never guess at entries written by a newer release.
/// </remarks>
public static class CommandCodec
{
    public const byte Magic = 0x4B;

    /// <summary>The version this node writes every command in, except a Txn in <see cref="TxnPathVersion"/>,
    /// <see cref="ValueOnceVersion"/> or <see cref="RangeRevisionVersion"/>.</summary>
    public const byte CurrentVersion = 3;

    /// <summary>Version 4: a Txn laid out as in version 3 whose nested txns' compares are all evaluated against the
    /// state before the transaction, the branch path decided up front (etcd's <c>compareToPath</c>); in version 3 a
    /// nested compare saw the transaction's earlier writes. Written only when every member lists the
    /// <c>txn-path</c> feature (<c>KvNode.Resolve.cs</c>): an older node refuses it (fail-stop), it never applies
    /// it the other way.</summary>
    public const byte TxnPathVersion = 4;

    /// <summary>Version 5: a Txn laid out and applied as in <see cref="TxnPathVersion"/> whose puts of values of at least
    /// <c>MvccLayout.LargeValueMinBytes</c> bytes keep the value once, in the key's history record (MVCC layout
    /// version 3, issue #18). Written only when every member lists the <c>value-once</c> feature
    /// (<c>KvNode.Resolve.cs</c>): an older node refuses it (fail-stop) rather than lay the value out as before, so
    /// replicas never differ in layout.</summary>
    public const byte ValueOnceVersion = 5;

    /// <summary>Version 6: a Txn laid out and applied as in <see cref="ValueOnceVersion"/> with Range ops that read the
    /// history at their <c>revision</c>, checked against the revisions before any op runs (etcd's <c>checkRequests</c>;
    /// class remarks). Written only for a txn with such a range, when every member lists the <c>txn-range-revision</c>
    /// feature (<c>KvNode.Resolve.cs</c>).</summary>
    public const byte RangeRevisionVersion = 6;

    /// <summary>The newest version this node reads (it reads every version from <see cref="BaseVersion"/> on).</summary>
    public const byte NewestVersion = RangeRevisionVersion;

    /// <summary>The oldest version this node reads.</summary>
    public const byte BaseVersion = 1;

    /// <summary>The length of a <see cref="CommandKind.ClusterUid"/> command's uid (128 bits).</summary>
    public const int ClusterUidLength = 16;

    public static byte[] Encode(KvCommand command)
    {
        var resolved = command.Kind == CommandKind.Txn ? command.Resolved : null;
        var b = PayloadWriter.Rent();
        b.Add(Magic);
        b.Add(command.Kind == CommandKind.Txn && command.FormatVersion is TxnPathVersion or ValueOnceVersion or RangeRevisionVersion ? command.FormatVersion : CurrentVersion);
        b.Add((byte)command.Kind);
        b.WriteVarint((ulong)command.TimestampUnixMs);
        WriteOpt(b, command.RequestId is null ? null : Encoding.UTF8.GetBytes(command.RequestId));
        if (command.Kind == CommandKind.Compact)
        {
            b.WriteVarint((ulong)command.Revision);
        }
        else if (command.Kind is CommandKind.LeaseGrant or CommandKind.LeaseRevoke)
        {
            var lease = command.Lease ?? throw new ArgumentException("lease command without a body", nameof(command));
            b.WriteVarint((ulong)lease.Id);
            b.WriteVarint((ulong)lease.TtlSeconds);
        }
        else if (KvCommand.IsAuthKind(command.Kind))
        {
            var auth = command.Auth ?? throw new ArgumentException("auth command without a body", nameof(command));
            b.WriteBytes(Encoding.UTF8.GetBytes(auth.Name));
            WriteOpt(b, auth.Role is null ? null : Encoding.UTF8.GetBytes(auth.Role));
            WriteOpt(b, auth.Secret);
            if (auth.Permission is { } perm)
            {
                b.Add((byte)(1 + (byte)perm.Type));
                b.WriteBytes(perm.Key);
                b.WriteBytes(perm.RangeEnd);
            }
            else
            {
                b.Add(0);
            }

            if (command.Kind == CommandKind.SimpleToken)
            {
                b.WriteVarint((ulong)command.Revision);
            }
        }
        else if (command.Kind == CommandKind.Learner)
        {
            var learner = command.Learner ?? throw new ArgumentException("learner command without a body", nameof(command));
            b.Add((byte)learner.Change);
            b.WriteVarint((ulong)learner.Id);
            b.WriteBytes(Encoding.UTF8.GetBytes(learner.RaftAddress));
            b.WriteBytes(Encoding.UTF8.GetBytes(learner.GrpcAddress));
            b.WriteBytes(Encoding.UTF8.GetBytes(learner.HttpAddress));
        }
        else if (command.Kind == CommandKind.ClusterUid)
        {
            var uid = command.ClusterUid is { Length: ClusterUidLength } u ? u : throw new ArgumentException("cluster uid command without a 16-byte uid", nameof(command));
            b.WriteBytes(uid);
        }
        else if (command.Kind == CommandKind.Alarm)
        {
            var alarm = command.Alarm ?? throw new ArgumentException("alarm command without an alarm change", nameof(command));
            b.Add(alarm.Active ? (byte)1 : (byte)0);
            b.Add((byte)alarm.Type);
            b.WriteVarint((ulong)alarm.MemberId);
            b.WriteVarint((ulong)alarm.Index);
        }
        else if (command.Kind == CommandKind.Txn)
        {
            var txn = command.Txn ?? throw new ArgumentException("txn command without a transaction", nameof(command));
            if (resolved is not null && resolved.Count != KvCommand.AllCompares(txn).Count())
            {
                throw new ArgumentException("one resolution per compare is required", nameof(command));
            }

            WriteTxn(b, txn);
            b.WriteVarint((ulong)(resolved?.Count ?? 0));
            foreach (var r in resolved ?? [])
            {
                if (r is null)
                {
                    b.Add(0);
                    continue;
                }

                b.Add(r.Holds ? (byte)2 : (byte)1);
                b.WriteVarint((ulong)r.Version);
            }
        }

        return b.ToArrayAndReturn();
    }

    public static KvCommand Decode(ReadOnlySpan<byte> data)
    {
        if (data.Length < 3 || data[0] != Magic)
        {
            throw new UnsupportedCommandVersionException($"log entry is not a RaftKv command (first byte 0x{(data.Length > 0 ? data[0] : 0):X2})");
        }

        var version = data[1];
        if (version is < BaseVersion or > NewestVersion)
        {
            throw new UnsupportedCommandVersionException($"log entry has command format version {version}; this node understands versions {BaseVersion} to {NewestVersion}");
        }

        var p = data; // read in place: keys and values are copied out one by one
        var pos = 2;
        var kind = (CommandKind)p[pos++];
        var ts = (long)Varint.Read(p, ref pos);
        var rid = ReadOpt(p, ref pos) is { } r ? Encoding.UTF8.GetString(r) : null;
        switch (kind)
        {
            case CommandKind.LeaseGrant or CommandKind.LeaseRevoke:
                var leaseId = (long)Varint.Read(p, ref pos);
                var leaseTtl = (long)Varint.Read(p, ref pos);
                return new KvCommand(kind, ts, rid, null, Lease: new Leases.LeaseCommand(leaseId, leaseTtl)) { FormatVersion = version };
            case var k when KvCommand.IsAuthKind(k) && k <= CommandKind.SimpleToken:
                var name = Encoding.UTF8.GetString(Varint.ReadBytes(p, ref pos));
                var role = ReadOpt(p, ref pos) is { } roleBytes ? Encoding.UTF8.GetString(roleBytes) : null;
                var secret = ReadOpt(p, ref pos);
                var permTag = p[pos++];
                Api.AuthPermission? permission = null;
                if (permTag != 0)
                {
                    permission = new Api.AuthPermission((Api.AuthPermissionType)(permTag - 1), Varint.ReadBytes(p, ref pos), Varint.ReadBytes(p, ref pos));
                }

                var authRevision = kind == CommandKind.SimpleToken ? (long)Varint.Read(p, ref pos) : 0;
                return new KvCommand(kind, ts, rid, null, Revision: authRevision, Auth: new Auth.AuthChange(name, role, secret, permission)) { FormatVersion = version };
            case CommandKind.Tick or CommandKind.HashCheck:
                return new KvCommand(kind, ts, rid, null) { FormatVersion = version };
            case CommandKind.Compact when version >= 3:
                return new KvCommand(kind, ts, rid, null, Revision: (long)Varint.Read(p, ref pos)) { FormatVersion = version };
            case CommandKind.Learner:
                var change = (LearnerChangeKind)p[pos++];
                var learnerId = (long)Varint.Read(p, ref pos);
                var raft = Encoding.UTF8.GetString(Varint.ReadBytes(p, ref pos));
                var grpc = Encoding.UTF8.GetString(Varint.ReadBytes(p, ref pos));
                var http = Encoding.UTF8.GetString(Varint.ReadBytes(p, ref pos));
                return new KvCommand(kind, ts, rid, null, Learner: new LearnerChange(change, learnerId, raft, grpc, http)) { FormatVersion = version };
            case CommandKind.ClusterUid:
                var uid = Varint.ReadBytes(p, ref pos);
                return uid.Length == ClusterUidLength
                    ? new KvCommand(kind, ts, rid, null, ClusterUid: uid) { FormatVersion = version }
                    : throw new UnsupportedCommandVersionException($"cluster uid command with a {uid.Length}-byte uid (16 expected)");
            case CommandKind.Alarm:
                var active = p[pos++] != 0;
                var type = (AlarmType)p[pos++];
                var member = (long)Varint.Read(p, ref pos);
                var at = (long)Varint.Read(p, ref pos);
                return new KvCommand(kind, ts, rid, null, Alarm: new AlarmChange(active, type, member, at)) { FormatVersion = version };
            case CommandKind.Txn:
                var txn = ReadTxn(p, ref pos, version, rid);
                List<ResolvedCompare?>? resolved = null;
                var count = version switch
                {
                    2 => txn.Compares.Count,
                    >= 3 => (int)Varint.Read(p, ref pos),
                    _ => 0,
                };
                if (count > 0)
                {
                    resolved = new List<ResolvedCompare?>(count);
                    for (var i = 0; i < count; i++)
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

                return new KvCommand(kind, ts, rid, txn, resolved) { FormatVersion = version };
            default:
                throw new UnsupportedCommandVersionException($"unknown command kind {(byte)kind}");
        }
    }

    private static void WriteTxn(PayloadWriter b, KvTxn txn)
    {
        b.WriteVarint((ulong)txn.Compares.Count);
        foreach (var c in txn.Compares)
        {
            b.WriteBytes(c.Key);
            b.Add((byte)c.Target);
            b.Add((byte)c.Op);
            b.WriteVarint((ulong)c.Operand);
            WriteOpt(b, c.Value);
            b.Add(c.Exists ? (byte)1 : (byte)0);
            WriteOpt(b, c.RangeEnd);
        }

        WriteOps(b, txn.Success);
        WriteOps(b, txn.Failure);
    }

    private static KvTxn ReadTxn(ReadOnlySpan<byte> p, ref int pos, byte version, string? rid)
    {
        var n = (int)Varint.Read(p, ref pos);
        var compares = new List<KvCompare>(n);
        for (var i = 0; i < n; i++)
        {
            var key = Varint.ReadBytes(p, ref pos);
            var target = (CompareTarget)p[pos++];
            var op = (CompareOp)p[pos++];
            var operand = (long)Varint.Read(p, ref pos);
            var value = ReadOpt(p, ref pos);
            var exists = p[pos++] != 0;
            byte[]? rangeEnd = null;
            if (version >= 3)
            {
                rangeEnd = ReadOpt(p, ref pos);
            }
            else if (target == CompareTarget.Version)
            {
                target = CompareTarget.Mod; // before MVCC, "version" was the Raft index of the last write
            }

            compares.Add(new KvCompare(key, target, op, operand, value, exists, rangeEnd));
        }

        var success = ReadOps(p, ref pos, version);
        var failure = ReadOps(p, ref pos, version);
        return new KvTxn(compares, success, failure, rid);
    }

    private static void WriteOps(PayloadWriter b, IReadOnlyList<KvOp> ops)
    {
        b.WriteVarint((ulong)ops.Count);
        foreach (var op in ops)
        {
            b.Add((byte)op.Kind);
            b.WriteBytes(op.Key);
            WriteOpt(b, op.Value);
            WriteOpt(b, op.RangeEnd);
            b.Add((byte)((op.Prefix ? 1 : 0) | (op.PrevKv ? 2 : 0) | (op.IgnoreValue ? 4 : 0) | (op.IgnoreLease ? 8 : 0)));
            b.WriteVarint((ulong)op.TtlMs);
            b.WriteVarint((ulong)op.Lease);
            b.WriteVarint((ulong)op.ResolvedMod);
            if (op.Kind == KvOpKind.Range)
            {
                var r = op.Range ?? new RangeRequest(op.Key);
                WriteOpt(b, r.RangeEnd);
                b.WriteVarint((ulong)r.Limit);
                b.WriteVarint((ulong)r.Revision);
                b.Add((byte)r.SortOrder);
                b.Add((byte)r.SortTarget);
                b.Add((byte)((r.KeysOnly ? 1 : 0) | (r.CountOnly ? 2 : 0)));
                b.WriteVarint((ulong)r.MinModRevision);
                b.WriteVarint((ulong)r.MaxModRevision);
                b.WriteVarint((ulong)r.MinCreateRevision);
                b.WriteVarint((ulong)r.MaxCreateRevision);
            }
            else if (op.Kind == KvOpKind.Txn)
            {
                WriteTxn(b, op.Nested ?? throw new ArgumentException("txn op without a transaction"));
            }
        }
    }

    private static List<KvOp> ReadOps(ReadOnlySpan<byte> p, ref int pos, byte version)
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
            if (version < 3)
            {
                ops.Add(new KvOp(kind, key, value, end, (flags & 1) != 0, ttl, (flags & 2) != 0));
                continue;
            }

            var lease = (long)Varint.Read(p, ref pos);
            var resolvedMod = (long)Varint.Read(p, ref pos);
            RangeRequest? range = null;
            KvTxn? nested = null;
            if (kind == KvOpKind.Range)
            {
                var rangeEnd = ReadOpt(p, ref pos);
                var limit = (long)Varint.Read(p, ref pos);
                var revision = (long)Varint.Read(p, ref pos);
                var order = (SortOrder)p[pos++];
                var target = (SortTarget)p[pos++];
                var rflags = p[pos++];
                range = new RangeRequest(key, rangeEnd, limit, revision, order, target, (rflags & 1) != 0, (rflags & 2) != 0,
                    (long)Varint.Read(p, ref pos), (long)Varint.Read(p, ref pos), (long)Varint.Read(p, ref pos), (long)Varint.Read(p, ref pos));
            }
            else if (kind == KvOpKind.Txn)
            {
                nested = ReadTxn(p, ref pos, version, null);
            }

            ops.Add(new KvOp(kind, key, value, end, (flags & 1) != 0, ttl, (flags & 2) != 0, false, lease, (flags & 4) != 0, (flags & 8) != 0, range, nested) { ResolvedMod = resolvedMod });
        }

        return ops;
    }

    private static void WriteOpt(PayloadWriter b, byte[]? data)
    {
        if (data is null)
        {
            b.WriteVarint(0);
            return;
        }

        b.WriteVarint((ulong)data.Length + 1);
        b.AddRange(data);
    }

    private static byte[]? ReadOpt(ReadOnlySpan<byte> p, ref int pos)
    {
        var n = (int)Varint.Read(p, ref pos);
        if (n == 0)
        {
            return null;
        }

        var r = p.Slice(pos, n - 1).ToArray();
        pos += n - 1;
        return r;
    }
}
