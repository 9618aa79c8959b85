using Grpc.Core;
using RaftKv.Protocol.V1;
using RaftKv.Replication.Api;

namespace RaftKv.Server.Grpc;

/// <summary>raftkv.v1.Cluster and raftkv.v1.Admin.</summary>
public sealed class ClusterGrpcService(IKvNode node) : Protocol.V1.Cluster.ClusterBase
{
    public override Task<StatusResponse> Status(StatusRequest request, ServerCallContext context)
    {
        // The revision is read before the status, so the header never claims a revision the reported
        // applied index does not already include (as the etcd Maintenance.Status header).
        var revision = node.Revision;
        var s = node.GetStatus();
        return Task.FromResult(new StatusResponse
        {
            Header = new ResponseHeader { NodeId = (ulong)s.NodeId, Term = (ulong)s.Term, AppliedIndex = (ulong)s.AppliedIndex, Leader = s.Leader?.GrpcAddress ?? string.Empty, Revision = (ulong)revision },
            NodeId = (ulong)s.NodeId,
            Term = (ulong)s.Term,
            Leader = s.Leader?.GrpcAddress ?? string.Empty,
            LeaderId = (ulong)(s.LeaderId ?? 0),
            CommitIndex = (ulong)s.CommitIndex,
            AppliedIndex = (ulong)s.AppliedIndex,
            DurableIndex = (ulong)s.DurableIndex,
            Role = s.Role,
            Version = typeof(ClusterGrpcService).Assembly.GetName().Version?.ToString() ?? "0",
        });
    }

    public override Task<MembersResponse> Members(MembersRequest request, ServerCallContext context)
    {
        var r = new MembersResponse { Header = Header() };
        r.Members.AddRange(node.GetStatus().Members.Select(ProtoMapping.ToProto));
        return Task.FromResult(r);
    }

    public override async Task<AddMemberResponse> AddMember(AddMemberRequest request, ServerCallContext context)
    {
        await node.AddMemberAsync(new MemberInfo((long)request.Id, request.RaftAddress, request.GrpcAddress, request.HttpAddress, false, false, true), context.CancellationToken).ConfigureAwait(false);
        var r = new AddMemberResponse { Header = Header() };
        r.Members.AddRange(node.GetStatus().Members.Select(ProtoMapping.ToProto));
        return r;
    }

    public override async Task<RemoveMemberResponse> RemoveMember(RemoveMemberRequest request, ServerCallContext context)
    {
        await node.RemoveMemberAsync((long)request.Id, context.CancellationToken).ConfigureAwait(false);
        var r = new RemoveMemberResponse { Header = Header() };
        r.Members.AddRange(node.GetStatus().Members.Select(ProtoMapping.ToProto));
        return r;
    }

    public override async Task<StateHashResponse> StateHash(StateHashRequest request, ServerCallContext context)
    {
        var r = CorruptionProtoMapping.ToProto(await node.GetStateHashAsync((long)request.Index, context.CancellationToken).ConfigureAwait(false));
        r.Header = Header();
        return r;
    }

    public override async Task<HoldElectionsResponse> HoldElections(HoldElectionsRequest request, ServerCallContext context)
    {
        var last = await node.HoldElectionsAsync(TimeSpan.FromMilliseconds(request.DurationMs), context.CancellationToken).ConfigureAwait(false);
        return new HoldElectionsResponse { Header = Header(), LastLogIndex = (ulong)last };
    }

    public override async Task<CorruptionCheckResponse> CorruptionCheck(CorruptionCheckRequest request, ServerCallContext context)
    {
        var r = CorruptionProtoMapping.ToProto(await node.CheckCorruptionAsync(context.CancellationToken).ConfigureAwait(false));
        r.Header = Header();
        return r;
    }

    private ResponseHeader Header() => NativeHeader.For(node);
}
