using Google.Protobuf;
using V1 = RaftKv.Protocol.V1;
using V3 = RaftKv.Protocol.Etcd;
using V3Election = RaftKv.Protocol.Etcd.V3Election;
using V3Lock = RaftKv.Protocol.Etcd.V3Lock;

namespace RaftKv.Server.Security.Auth;

/// <summary>
/// What each call needs once auth is on (etcd's rules, docs/api.md "Authentication"): every key and range a
/// request touches, read or write (txn compares and nested ops included, a put or delete with prev_kv also
/// reads; a put with a lease also needs write on the keys already attached to it); lease revoke and TimeToLive need
/// write on the lease's keys; watches need read at creation;
/// Authenticate, AuthStatus and the corruption check's StateHash are open; a user may get its own user and the roles it
/// holds; etcd's Status and MemberList are open (as etcd's); the native status and member listing, etcd's compaction
/// and alarm listing need a user; everything else (auth management, membership, maintenance, the native API's
/// compaction, admin) needs the root role.
/// Unknown calls need root (fail closed).
/// </summary>
public static partial class AuthRules
{
    private static readonly byte[] All = [0];

    /// <summary>The access a unary or server-streaming gRPC call needs (by its request message).</summary>
    public static AuthAccess ForGrpc(object request) => request switch
    {
        // etcd v3 (etcdserverpb)
        V3.RangeRequest r => AuthAccess.On(KeyAccess.Read(r.Key.ToByteArray(), r.RangeEnd.ToByteArray())),
        V3.PutRequest p => AuthAccess.On(Put(p)) with { PutLeases = p.Lease != 0 ? [p.Lease] : [] },
        V3.DeleteRangeRequest d => AuthAccess.On(Delete(d)),
        V3.TxnRequest t => AuthAccess.On(Txn(t, [])) with { PutLeases = PutLeases(t, []) },
        V3.LeaseGrantRequest or V3.LeaseLeasesRequest => AuthAccess.Authenticated,
        V3.LeaseRevokeRequest l => AuthAccess.LeaseKeys(l.ID),
        V3.LeaseTimeToLiveRequest l => AuthAccess.LeaseKeys(l.ID),
        V3.AuthenticateRequest or V3.AuthStatusRequest => AuthAccess.Open,
        V3.AuthUserGetRequest u => AuthAccess.UserItself(u.Name), // etcd 3.4's authApplierV3.UserGet
        V3.AuthRoleGetRequest r => AuthAccess.RoleHeld(r.Role), // etcd 3.4's authApplierV3.RoleGet
        // Open, as etcd 3.4 and 3.5 serve them (even with an expired or bad token): clients list members and read the
        // status before they authenticate — Patroni lists members with no token at start and with an expired one later,
        // and never started on RaftKv with auth on before 2026-12-07 ("waiting on etcd", UserEmpty). Member names,
        // URLs and the leader's id; no key, value or user.
        V3.StatusRequest or V3.MemberListRequest => AuthAccess.Open,
        // etcd 3.4 checks no permission on Compact and Alarm: any authenticated user compacts (e.g. the Kubernetes
        // API server's own etcd user) and lists alarms. RaftKv still wants a user for them, and root to arm or disarm.
        V3.CompactionRequest => AuthAccess.Authenticated,
        V3.AlarmRequest { Action: V3.AlarmRequest.Types.AlarmAction.Get } => AuthAccess.Authenticated,

        // etcd v3lockpb / v3electionpb (AuthRules.Concurrency.cs)
        V3Lock.LockRequest l => AuthAccess.On(Candidate(l.Name, l.Lease)),
        V3Lock.UnlockRequest u => AuthAccess.On(KeyAccess.ToWrite(u.Key.ToByteArray())),
        V3Election.CampaignRequest c => AuthAccess.On(Candidate(c.Name, c.Lease)),
        V3Election.ProclaimRequest { Leader: { } l } => AuthAccess.On(LeaderKey(l)),
        V3Election.ResignRequest { Leader: { } l } => AuthAccess.On(LeaderKey(l)),
        V3Election.ProclaimRequest or V3Election.ResignRequest => AuthAccess.Authenticated, // no leader: etcd's error, nothing touched
        V3Election.LeaderRequest l => AuthAccess.On(Election(l.Name)),

        // raftkv.v1
        V1.GetRequest g => AuthAccess.On(KeyAccess.Read(g.Key.ToByteArray())),
        V1.PutRequest p => AuthAccess.On(Put(p)),
        V1.DeleteRequest d => AuthAccess.On(Delete(d, write: true)),
        V1.RangeRequest r => AuthAccess.On(Range(r)),
        V1.TxnRequest t => AuthAccess.On(Txn(t)),
        V1.WatchRequest w => AuthAccess.On(KeyAccess.Read(w.Key.ToByteArray(), w.Prefix ? KeyAccess.PrefixEnd(w.Key.ToByteArray()) : EndOrKey(w.RangeEnd))),
        V1.StatusRequest or V1.MembersRequest => AuthAccess.Authenticated,
        V1.StateHashRequest => AuthAccess.Open, // a peer's corruption check: hashes only
        V1.ReadIndexRequest => AuthAccess.Open, // a follower's read index: a term and a commit index only
        Protocol.Health.HealthCheckRequest => AuthAccess.Open, // grpc.health.v1: open, as etcd's
        _ => AuthAccess.Admin,
    };

    /// <summary>The access of an etcd watch create request.</summary>
    public static AuthAccess ForWatch(V3.WatchCreateRequest c)
        => AuthAccess.On(KeyAccess.Read(c.Key.IsEmpty ? [0] : c.Key.ToByteArray(), c.RangeEnd.ToByteArray()));

    private static KeyAccess[] Put(V3.PutRequest p)
        => p.PrevKv ? [KeyAccess.ToWrite(p.Key.ToByteArray()), KeyAccess.Read(p.Key.ToByteArray())] : [KeyAccess.ToWrite(p.Key.ToByteArray())];

    private static KeyAccess[] Delete(V3.DeleteRangeRequest d)
    {
        var w = KeyAccess.ToWrite(d.Key.ToByteArray(), d.RangeEnd.ToByteArray());
        return d.PrevKv ? [w, w with { Write = false }] : [w];
    }

    private static List<KeyAccess> Txn(V3.TxnRequest t, List<KeyAccess> into)
    {
        foreach (var c in t.Compare)
        {
            into.Add(KeyAccess.Read(c.Key.ToByteArray(), c.RangeEnd.ToByteArray()));
        }

        foreach (var op in t.Success.Concat(t.Failure))
        {
            switch (op.RequestCase)
            {
                case V3.RequestOp.RequestOneofCase.RequestRange:
                    into.Add(KeyAccess.Read(op.RequestRange.Key.ToByteArray(), op.RequestRange.RangeEnd.ToByteArray()));
                    break;
                case V3.RequestOp.RequestOneofCase.RequestPut:
                    into.AddRange(Put(op.RequestPut));
                    break;
                case V3.RequestOp.RequestOneofCase.RequestDeleteRange:
                    into.AddRange(Delete(op.RequestDeleteRange));
                    break;
                case V3.RequestOp.RequestOneofCase.RequestTxn:
                    Txn(op.RequestTxn, into);
                    break;
            }
        }

        return into;
    }

    /// <summary>The leases the puts of <paramref name="t"/> (nested txns included) attach keys to.</summary>
    private static List<long> PutLeases(V3.TxnRequest t, List<long> into)
    {
        foreach (var op in t.Success.Concat(t.Failure))
        {
            if (op.RequestCase == V3.RequestOp.RequestOneofCase.RequestPut && op.RequestPut.Lease != 0 && !into.Contains(op.RequestPut.Lease))
            {
                into.Add(op.RequestPut.Lease);
            }
            else if (op.RequestCase == V3.RequestOp.RequestOneofCase.RequestTxn)
            {
                PutLeases(op.RequestTxn, into);
            }
        }

        return into;
    }

    private static KeyAccess[] Put(V1.PutRequest p)
        => p.PrevKv ? [KeyAccess.ToWrite(p.Key.ToByteArray()), KeyAccess.Read(p.Key.ToByteArray())] : [KeyAccess.ToWrite(p.Key.ToByteArray())];

    private static KeyAccess Delete(V1.DeleteRequest d, bool write)
    {
        var key = d.Key.ToByteArray();
        var end = d.AllKeys ? All : d.Prefix ? KeyAccess.PrefixEnd(key) : d.RangeEnd.ToByteArray();
        return new KeyAccess(d.AllKeys ? [] : key, end, write);
    }

    private static KeyAccess Range(V1.RangeRequest r)
    {
        // The scan starts at the continuation when there is one: check the range actually read.
        var start = r.Continuation.IsEmpty ? r.Start.ToByteArray() : r.Continuation.ToByteArray();
        var end = r.Prefix ? KeyAccess.PrefixEnd(r.Start.ToByteArray()) : r.End.IsEmpty ? All : r.End.ToByteArray();
        return KeyAccess.Read(start, end);
    }

    private static List<KeyAccess> Txn(V1.TxnRequest t)
    {
        var into = t.Compare.Select(c => KeyAccess.Read(c.Key.ToByteArray())).ToList();
        foreach (var op in t.Success.Concat(t.Failure))
        {
            switch (op.OpCase)
            {
                case V1.TxnOp.OpOneofCase.Put:
                    into.AddRange(Put(op.Put));
                    break;
                case V1.TxnOp.OpOneofCase.Delete:
                    into.Add(Delete(op.Delete, write: true));
                    break;
                case V1.TxnOp.OpOneofCase.Get:
                    into.Add(KeyAccess.Read(op.Get.Key.ToByteArray()));
                    break;
            }
        }

        return into;
    }

    private static byte[] EndOrKey(ByteString end) => end.ToByteArray();
}
