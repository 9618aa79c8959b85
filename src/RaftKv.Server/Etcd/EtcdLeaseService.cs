using Grpc.Core;
using RaftKv.Replication.Api;
using RaftKv.Server.Pipeline;
using V3 = RaftKv.Protocol.Etcd;

namespace RaftKv.Server.Etcd;

/// <summary>
/// etcdserverpb.Lease over the node's lease API (docs/api.md, "Leases"). Grant, revoke and TimeToLive run on
/// the leader (a follower forwards them, <see cref="GrpcLeaderForwarder.ForwardedMethods"/>); Leases is
/// answered by any node after a read barrier; each keep-alive of the bidirectional stream renews on the
/// leader: locally when this node leads, else through one upstream stream to the leader
/// (<see cref="LeaseKeepAliveUpstream"/>). Errors become etcd's statuses in
/// <see cref="GrpcOperationInterceptor"/> (<see cref="GrpcErrors.MapEtcd"/>: "etcdserver: requested lease not
/// found" NOT_FOUND, "etcdserver: lease already exists" FAILED_PRECONDITION, "etcdserver: too large lease TTL"
/// OUT_OF_RANGE), except where etcd answers without an error: TimeToLive of an unknown lease (TTL -1) and a
/// keep-alive of an unknown or expired one (TTL 0).
/// </summary>
public sealed class EtcdLeaseService(IKvNode node, EtcdIdentity identity, GrpcLeaderForwarder forwarder, LeaderRouter router) : V3.Lease.LeaseBase
{
    public override async Task<V3.LeaseGrantResponse> LeaseGrant(V3.LeaseGrantRequest request, ServerCallContext context)
    {
        var r = await node.LeaseGrantAsync(request.ID, request.TTL, context.CancellationToken).ConfigureAwait(false);
        return new V3.LeaseGrantResponse { Header = identity.Header(node.Revision), ID = r.Id, TTL = r.TtlSeconds };
    }

    public override async Task<V3.LeaseRevokeResponse> LeaseRevoke(V3.LeaseRevokeRequest request, ServerCallContext context)
    {
        var r = await node.LeaseRevokeAsync(request.ID, context.CancellationToken).ConfigureAwait(false);
        return new V3.LeaseRevokeResponse { Header = identity.Header(r.Revision) };
    }

    public override async Task<V3.LeaseTimeToLiveResponse> LeaseTimeToLive(V3.LeaseTimeToLiveRequest request, ServerCallContext context)
    {
        try
        {
            var r = await node.LeaseTimeToLiveAsync(request.ID, request.Keys, context.CancellationToken).ConfigureAwait(false);
            var response = new V3.LeaseTimeToLiveResponse { Header = identity.Header(node.Revision), ID = r.Id, TTL = r.RemainingSeconds, GrantedTTL = r.GrantedTtlSeconds };
            response.Keys.AddRange(r.Keys.Select(Google.Protobuf.ByteString.CopyFrom));
            return response;
        }
        catch (LeaseNotFoundException)
        {
            return new V3.LeaseTimeToLiveResponse { Header = identity.Header(node.Revision), ID = request.ID, TTL = -1 }; // etcd: not an error
        }
    }

    public override async Task<V3.LeaseLeasesResponse> LeaseLeases(V3.LeaseLeasesRequest request, ServerCallContext context)
    {
        var ids = await node.LeaseLeasesAsync(ReadConsistency.Linearizable, context.CancellationToken).ConfigureAwait(false);
        var response = new V3.LeaseLeasesResponse { Header = identity.Header(node.Revision) };
        response.Leases.AddRange(ids.Select(id => new V3.LeaseStatus { ID = id }));
        return response;
    }

    public override async Task LeaseKeepAlive(IAsyncStreamReader<V3.LeaseKeepAliveRequest> requestStream, IServerStreamWriter<V3.LeaseKeepAliveResponse> responseStream, ServerCallContext context)
    {
        using var upstream = new LeaseKeepAliveUpstream(forwarder, router, context);
        var token = context.CancellationToken;
        while (await requestStream.MoveNext(token).ConfigureAwait(false))
        {
            var request = requestStream.Current;
            var response = await RenewAsync(request, upstream, token).ConfigureAwait(false);
            await responseStream.WriteAsync(response, token).ConfigureAwait(false);
        }
    }

    /// <summary>One keep-alive: renewed here when this node leads, else through the leader; here after all when
    /// this node became the leader while it forwarded (<see cref="LeaseKeepAliveUpstream.KeepAliveAsync"/> answers null).</summary>
    private async Task<V3.LeaseKeepAliveResponse> RenewAsync(V3.LeaseKeepAliveRequest request, LeaseKeepAliveUpstream upstream, CancellationToken token)
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                var ttl = await node.LeaseKeepAliveAsync(request.ID, token).ConfigureAwait(false);
                return new V3.LeaseKeepAliveResponse { Header = identity.Header(node.Revision), ID = request.ID, TTL = ttl };
            }
            catch (LeaseNotFoundException)
            {
                return new V3.LeaseKeepAliveResponse { Header = identity.Header(node.Revision), ID = request.ID, TTL = 0 }; // etcd: expired or revoked
            }
            catch (NotLeaderException) when (!upstream.AlreadyForwarded && attempt < 3)
            {
                if (await upstream.KeepAliveAsync(request, token).ConfigureAwait(false) is { } forwarded)
                {
                    return forwarded;
                }
            }
        }
    }
}
