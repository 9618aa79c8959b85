using Google.Protobuf;
using Grpc.Core;
using RaftKv.Replication.Api;
using RaftKv.Server.Etcd.Concurrency;
using RaftKv.Server.Pipeline;
using V3Election = RaftKv.Protocol.Etcd.V3Election;

namespace RaftKv.Server.Etcd;

/// <summary>
/// etcd's v3electionpb.Election (docs/api.md, "Lock and Election"): a thin front over <see cref="EtcdElection"/>.
/// Campaign runs on the member called, as etcd's v3election does: its wait watches there (and outlives a leader
/// change), its writes go to the leader one by one (<see cref="ConcurrencyUpstream"/>). Proclaim and Resign are one
/// write each, forwarded whole by a follower (<see cref="GrpcLeaderForwarder.ForwardedMethods"/>); Leader and the
/// Observe stream are served by any member.
/// Errors become etcd's statuses in <see cref="GrpcOperationInterceptor"/> (<see cref="GrpcErrors.MapEtcd"/>).
/// </summary>
public sealed class EtcdElectionService(EtcdElection election, EtcdIdentity identity, IKvNode node, LeaderRouter router, GrpcLeaderForwarder forwarder)
    : V3Election.Election.ElectionBase
{
    public override async Task<V3Election.CampaignResponse> Campaign(V3Election.CampaignRequest request, ServerCallContext context)
    {
        var (revision, leader) = await election.CampaignAsync(request.Name.ToByteArray(), request.Lease, request.Value.ToByteArray(), Writer(context), context.CancellationToken)
            .ConfigureAwait(false);
        return new V3Election.CampaignResponse { Header = identity.Header(revision), Leader = ToProto(leader) };
    }

    public override async Task<V3Election.ProclaimResponse> Proclaim(V3Election.ProclaimRequest request, ServerCallContext context)
    {
        var revision = await EtcdElection.ProclaimAsync(ToApi(request.Leader), request.Value.ToByteArray(), Writer(context), context.CancellationToken).ConfigureAwait(false);
        return new V3Election.ProclaimResponse { Header = identity.Header(revision) };
    }

    public override async Task<V3Election.LeaderResponse> Leader(V3Election.LeaderRequest request, ServerCallContext context)
    {
        var (revision, kv) = await election.LeaderAsync(request.Name.ToByteArray(), context.CancellationToken).ConfigureAwait(false);
        return new V3Election.LeaderResponse { Header = identity.Header(revision), Kv = EtcdMapping.ToProto(kv) };
    }

    public override async Task Observe(V3Election.LeaderRequest request, IServerStreamWriter<V3Election.LeaderResponse> responseStream, ServerCallContext context)
    {
        var token = context.CancellationToken;
        await foreach (var (revision, kv) in election.ObserveAsync(request.Name.ToByteArray(), token).ConfigureAwait(false))
        {
            await responseStream.WriteAsync(new V3Election.LeaderResponse { Header = identity.Header(revision), Kv = EtcdMapping.ToProto(kv) }, token).ConfigureAwait(false);
        }

        token.ThrowIfCancellationRequested(); // etcd: the stream's context error; a failed read or watch ends it cleanly
    }

    public override async Task<V3Election.ResignResponse> Resign(V3Election.ResignRequest request, ServerCallContext context)
    {
        var revision = await EtcdElection.ResignAsync(ToApi(request.Leader), Writer(context), context.CancellationToken).ConfigureAwait(false);
        return new V3Election.ResignResponse { Header = identity.Header(revision) };
    }

    private ConcurrencyUpstream Writer(ServerCallContext context) => new(node, router, forwarder, context);

    private static V3Election.LeaderKey ToProto(ElectionLeader l)
        => new() { Name = ByteString.CopyFrom(l.Name), Key = ByteString.CopyFrom(l.Key), Rev = l.Rev, Lease = l.Lease };

    private static ElectionLeader ToApi(V3Election.LeaderKey? l)
        => l is null ? throw new ConcurrencyException(ConcurrencyError.MissingLeaderKey) : new(l.Name.ToByteArray(), l.Key.ToByteArray(), l.Rev, l.Lease);
}
