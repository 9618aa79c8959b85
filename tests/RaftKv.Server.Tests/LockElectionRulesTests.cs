using System.Text;
using Google.Protobuf;
using Grpc.Core;
using RaftKv.Replication.Api;
using RaftKv.Server.Etcd.Concurrency;
using RaftKv.Server.Pipeline;
using RaftKv.Server.Security.Auth;
using V3Election = RaftKv.Protocol.Etcd.V3Election;
using V3Lock = RaftKv.Protocol.Etcd.V3Lock;

namespace RaftKv.Server.Tests;

/// <summary>etcd's Lock and Election services: the access each call needs (what etcd's own KV calls would
/// check) and their errors as etcd 3.4 answers them (UNKNOWN with etcd's text).</summary>
public sealed class LockElectionRulesTests
{
    private static ByteString Bs(string s) => ByteString.CopyFromUtf8(s);

    private static string[] Keys(AuthAccess a)
        => [.. a.Keys.Select(k => Encoding.UTF8.GetString(k.Key) + (k.RangeEnd.Length > 0 ? "-" + Encoding.UTF8.GetString(k.RangeEnd) : "") + (k.Write ? ":w" : ":r"))];

    [Fact]
    public void CandidatesReadThePrefixAndWriteTheirKey()
    {
        Assert.Equal(["job/-job0:r", "job/1f:w"], Keys(AuthRules.ForGrpc(new V3Lock.LockRequest { Name = Bs("job"), Lease = 0x1f })));
        Assert.Equal(["job/-job0:r", "job/-job0:w"], Keys(AuthRules.ForGrpc(new V3Lock.LockRequest { Name = Bs("job") }))); // lease 0: key unknown
        Assert.Equal(["e/-e0:r", "e/a:w"], Keys(AuthRules.ForGrpc(new V3Election.CampaignRequest { Name = Bs("e"), Lease = 10 })));
        Assert.Equal(["job/1f:w"], Keys(AuthRules.ForGrpc(new V3Lock.UnlockRequest { Key = Bs("job/1f") })));
        var leader = new V3Election.LeaderKey { Name = Bs("e"), Key = Bs("e/a"), Rev = 3, Lease = 10 };
        Assert.Equal(["e/a:r", "e/a:w"], Keys(AuthRules.ForGrpc(new V3Election.ProclaimRequest { Leader = leader })));
        Assert.Equal(["e/a:r", "e/a:w"], Keys(AuthRules.ForGrpc(new V3Election.ResignRequest { Leader = leader })));
        Assert.Equal(["e/-e0:r"], Keys(AuthRules.ForGrpc(new V3Election.LeaderRequest { Name = Bs("e") })));
        Assert.Equal(AuthAccessKind.Authenticated, AuthRules.ForGrpc(new V3Election.ResignRequest()).Kind);
    }

    [Fact]
    public void ErrorsAreEtcdsGoErrors()
    {
        var lease = GrpcErrors.Map(new LeaseNotFoundException(5), "/v3lockpb.Lock/Lock");
        Assert.Equal((StatusCode.Unknown, "etcdserver: requested lease not found"), (lease.StatusCode, lease.Status.Detail));
        var kv = GrpcErrors.Map(new LeaseNotFoundException(5), "/etcdserverpb.KV/Put");
        Assert.Equal(StatusCode.NotFound, kv.StatusCode); // the KV service keeps etcd's rpctypes status
        var notLeader = GrpcErrors.Map(new ConcurrencyException(ConcurrencyError.NotLeader), "/v3electionpb.Election/Proclaim", out var classified);
        Assert.Equal((StatusCode.Unknown, "election: not leader"), (notLeader.StatusCode, notLeader.Status.Detail));
        Assert.Equal(StatusCode.FailedPrecondition, classified); // logged as a refusal, not a failure
        Assert.Equal(StatusCode.Cancelled, GrpcErrors.Map(new OperationCanceledException(), "/v3lockpb.Lock/Lock").StatusCode);
        Assert.Equal("\"leader\" field must be provided", ConcurrencyException.TextOf(ConcurrencyError.MissingLeaderKey));
    }

    [Fact]
    public void CandidateKeysAreNamePlusLeaseInLowercaseHex()
    {
        Assert.Equal("job/694d7b2c1e3f5a01", Encoding.ASCII.GetString(ConcurrencyKv.KeyOf(ConcurrencyKv.PrefixOf("job"u8), 0x694d7b2c1e3f5a01)));
        Assert.Equal("/-1", Encoding.ASCII.GetString(ConcurrencyKv.KeyOf(ConcurrencyKv.PrefixOf([]), -1))); // Go's %x of a negative id
    }
}
