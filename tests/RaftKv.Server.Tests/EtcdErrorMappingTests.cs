using Grpc.Core;
using RaftKv.Replication.Api;
using RaftKv.Server.Etcd;
using RaftKv.Server.Pipeline;

namespace RaftKv.Server.Tests;

/// <summary>The etcd front door's table (GrpcErrors.Etcd.cs): each error type → etcd's gRPC status and exact
/// text (etcd's api/v3rpc/rpctypes), which etcd clients match on; the native API keeps its own answers.</summary>
public sealed class EtcdErrorMappingTests
{
    public static TheoryData<Exception, StatusCode, string> Table() => new()
    {
        { new RevisionCompactedException(3, 10), StatusCode.OutOfRange, "etcdserver: mvcc: required revision has been compacted" },
        { new HistoryCompactedException(3, 10), StatusCode.OutOfRange, "etcdserver: mvcc: required revision has been compacted" },
        { new FutureRevisionException(30, 10), StatusCode.OutOfRange, "etcdserver: mvcc: required revision is a future revision" },
        { new TooManyTxnOpsException(129, 128), StatusCode.InvalidArgument, "etcdserver: too many operations in txn request" },
        { new DuplicateKeyInTxnException([1]), StatusCode.InvalidArgument, "etcdserver: duplicate key given in txn request" },
        { new LeaseNotFoundException(7), StatusCode.NotFound, "etcdserver: requested lease not found" },
        { new KeyNotFoundForIgnoreException([1]), StatusCode.InvalidArgument, "etcdserver: key not found" },
        { new ValueTooLargeException("value of 9 MiB exceeds 8 MiB"), StatusCode.InvalidArgument, "etcdserver: request is too large" },
        { new NotLeaderException(null), StatusCode.Unavailable, "etcdserver: no leader" },
        { new UnavailableException("no quorum"), StatusCode.Unavailable, "etcdserver: request timed out" },
        { new UnavailableException("timed out", outcomeUnknown: true), StatusCode.Unavailable, "etcdserver: request timed out" },
        { new LeaderChangedException(1), StatusCode.Unavailable, "etcdserver: leader changed" },
        { new ForwardTimeoutException(1, TimeSpan.FromSeconds(7)), StatusCode.Unavailable, "etcdserver: request timed out" },
        { new RaftKv.Storage.IO.DiskFullException("no space"), StatusCode.ResourceExhausted, "etcdserver: mvcc: database space exceeded" },
        { new NoSpaceException("the NOSPACE alarm of member 1 is active"), StatusCode.ResourceExhausted, "etcdserver: mvcc: database space exceeded" },
        { new MemberUpdateRefusedException(2, "it is the leader"), StatusCode.FailedPrecondition, "raftkv: member 2 cannot move now: it is the leader" },
        { new MemberNotFoundException(3), StatusCode.NotFound, "etcdserver: member not found" },
    };

    [Theory]
    [MemberData(nameof(Table))]
    public void EtcdMethodsAnswerEtcdsStatusAndText(Exception e, StatusCode code, string text)
    {
        var rpc = GrpcErrors.Map(e, "/etcdserverpb.KV/Range");
        Assert.Equal(code, rpc.StatusCode);
        Assert.Equal(text, rpc.Status.Detail);
    }

    [Fact]
    public void NativeMethodsKeepTheirTable()
    {
        Assert.Equal(StatusCode.FailedPrecondition, GrpcErrors.Map(new NotLeaderException(null), "/raftkv.v1.KV/Put").StatusCode);
        Assert.Equal(StatusCode.InvalidArgument, GrpcErrors.Map(new FutureRevisionException(30, 10), "/raftkv.v1.KV/Range").StatusCode);
        Assert.Equal(StatusCode.InvalidArgument, GrpcErrors.Map(new TooManyTxnOpsException(200, 128), "/raftkv.v1.KV/Txn").StatusCode);
        Assert.Equal((400, "invalid_argument"), Pick(ApiError.Map(new LeaseNotFoundException(7))));
    }

    [Fact]
    public void ClusterIdIsEtcdsDerivationAndIndependentOfOrder()
    {
        Assert.Equal(EtcdIdentity.ClusterIdOf([1, 2, 3]), EtcdIdentity.ClusterIdOf([3, 1, 2]));
        Assert.NotEqual(EtcdIdentity.ClusterIdOf([1, 2, 3]), EtcdIdentity.ClusterIdOf([1, 2, 4]));
        Assert.Equal(5UL, EtcdIdentity.MemberId(5));
        Assert.Equal(5L, EtcdIdentity.NodeIdOf(5));
        Assert.Null(EtcdIdentity.NodeIdOf(0));
    }

    [Theory]
    [InlineData("http://10.0.0.4:7000", "10.0.0.4:7000")]
    [InlineData("https://raftkv-3.raftkv-peers:7000", "raftkv-3.raftkv-peers:7000")]
    [InlineData("10.0.0.4:7000", null)] // etcd 3.4: "given member URLs are invalid" (no scheme)
    [InlineData("http://[::1]:7000", "[::1]:7000")]
    [InlineData("http://10.0.0.4:7000/path", null)]
    [InlineData("not a url", null)]
    [InlineData("bogus", null)] // etcd: no scheme; RaftKv read it as http://bogus:80
    [InlineData("http://10.0.0.4", null)] // etcd requires the port
    [InlineData("10.0.0.4", null)]
    [InlineData("ftp://10.0.0.4:7000", null)]
    [InlineData("http://[::1]", null)]
    public void MemberAddPeerUrls(string url, string? raft) => Assert.Equal(raft, EtcdClusterService.RaftAddressOf(url));

    private static (int, string) Pick((int Status, string Code, string Message) m) => (m.Status, m.Code);
}
