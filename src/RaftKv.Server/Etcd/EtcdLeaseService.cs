using Grpc.Core;
using RaftKv.Protocol.Etcd;
using RaftKv.Server.Pipeline;

namespace RaftKv.Server.Etcd;

/// <summary>
/// etcdserverpb.Lease. Leases are not implemented in RaftKv's MVCC core yet: every call answers
/// UNIMPLEMENTED with that reason (keys with a time to live exist only in the native API's per-key
/// TTL). A put that names a lease is refused by the KV service.
/// </summary>
public sealed class EtcdLeaseService : Lease.LeaseBase
{
    private const string Later = "leases are not implemented yet";

    public override Task<LeaseGrantResponse> LeaseGrant(LeaseGrantRequest request, ServerCallContext context) => throw Unimplemented("LeaseGrant");

    public override Task<LeaseRevokeResponse> LeaseRevoke(LeaseRevokeRequest request, ServerCallContext context) => throw Unimplemented("LeaseRevoke");

    public override Task LeaseKeepAlive(IAsyncStreamReader<LeaseKeepAliveRequest> requestStream, IServerStreamWriter<LeaseKeepAliveResponse> responseStream, ServerCallContext context)
        => throw Unimplemented("LeaseKeepAlive");

    public override Task<LeaseTimeToLiveResponse> LeaseTimeToLive(LeaseTimeToLiveRequest request, ServerCallContext context) => throw Unimplemented("LeaseTimeToLive");

    public override Task<LeaseLeasesResponse> LeaseLeases(LeaseLeasesRequest request, ServerCallContext context) => throw Unimplemented("LeaseLeases");

    private static RpcException Unimplemented(string method) => GrpcErrors.Etcd.Unimplemented($"{method}: {Later}");
}
