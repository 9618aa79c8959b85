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
        if (request.IsLearner)
        {
            await node.AddLearnerAsync(request.RaftAddress, context.CancellationToken).ConfigureAwait(false); // started afterwards with LEARNER=true
        }
        else
        {
            await node.AddMemberAsync(new MemberInfo((long)request.Id, request.RaftAddress, request.GrpcAddress, request.HttpAddress, false, false, true), context.CancellationToken).ConfigureAwait(false);
        }

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

    /// <summary>Learner → voter (<see cref="IKvNode.PromoteLearnerAsync"/>, on the leader: forwarded). Not caught up
    /// yet (<c>LearnerNotReadyException</c>): UNAVAILABLE, retry; a voter (<c>NotLearnerException</c>) or an
    /// unknown id: INVALID_ARGUMENT (the native error table, docs/architecture.md "Errors").</summary>
    public override async Task<PromoteMemberResponse> PromoteMember(PromoteMemberRequest request, ServerCallContext context)
    {
        await node.PromoteLearnerAsync((long)request.Id, context.CancellationToken).ConfigureAwait(false);
        var r = new PromoteMemberResponse { Header = Header() };
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

    /// <summary>Internal, member to leader: a simple token through the log (Replication/KvNode.SimpleTokens.cs). Members only:
    /// a user, even root, cannot have a token assigned to someone else.</summary>
    public override async Task<AssignSimpleTokenResponse> AssignSimpleToken(AssignSimpleTokenRequest request, ServerCallContext context)
    {
        if (Security.Auth.AuthPrincipal.Of(context.GetHttpContext()) is not { Node: > 0 })
        {
            throw new RpcException(new Status(StatusCode.PermissionDenied, "members only"));
        }

        try
        {
            var grant = new Replication.Api.SimpleTokenGrant(request.Digest.ToByteArray(), request.User, (long)request.AuthRevision);
            return new AssignSimpleTokenResponse { Index = (ulong)await node.ServeSimpleTokenAsync(grant, context.CancellationToken).ConfigureAwait(false) };
        }
        catch (Replication.Api.AuthException e) when (e.Error == Replication.Api.AuthError.AuthOldRevision)
        {
            return new AssignSimpleTokenResponse { Stale = true };
        }
    }

    /// <summary>Internal: a follower's read index (KvNode.FollowerReadIndex.cs); refusals map through GrpcOperationInterceptor
    /// (not the leader of the term: FAILED_PRECONDITION).</summary>
    public override async Task<ReadIndexResponse> ReadIndex(ReadIndexRequest request, ServerCallContext context)
    {
        var r = await node.ServeReadIndexAsync((long)request.Term, (long)request.CommitIndex, context.CancellationToken).ConfigureAwait(false);
        return new ReadIndexResponse { Term = (ulong)r.Term, Index = (ulong)r.Index };
    }

    /// <summary>Internal: the leader's committed log to a learner, or to a member pulling a snapshot with the credential of this
    /// leader's snapshot reference in metadata (KvNode.LearnerTail.cs, KvNode.SnapshotPull.cs).</summary>
    public override async Task TailLog(TailLogRequest request, IServerStreamWriter<TailLogResponse> responseStream, ServerCallContext context)
    {
        var credential = context.RequestHeaders.GetValue(Pipeline.GrpcAuthInterceptor.PullCredentialHeader);
        var tail = new LearnerTailRequest((long)request.NodeId, request.RaftAddress, request.GrpcAddress, request.HttpAddress, (long)request.FromIndex, credential);
        await StreamTailAsync(tail, responseStream, context).ConfigureAwait(false); // errors: GrpcOperationInterceptor (not-the-leader carries the leader's address)
    }

    private async Task StreamTailAsync(LearnerTailRequest tail, IServerStreamWriter<TailLogResponse> responseStream, ServerCallContext context)
    {
        await foreach (var item in node.TailLogAsync(tail, context.CancellationToken).ConfigureAwait(false))
        {
            var r = new TailLogResponse
            {
                SnapshotIndex = (ulong)item.SnapshotIndex,
                SnapshotTerm = (ulong)item.SnapshotTerm,
                SnapshotDone = item.SnapshotDone,
                CommitIndex = (ulong)item.CommitIndex,
            };
            if (item.SnapshotChunk is { } chunk)
            {
                r.SnapshotChunk = Google.Protobuf.UnsafeByteOperations.UnsafeWrap(chunk);
            }

            foreach (var e in item.Entries)
            {
                r.Entries.Add(new TailLogEntry { Index = (ulong)e.Index, Term = (ulong)e.Term, IsConfiguration = e.IsConfiguration, Payload = Google.Protobuf.UnsafeByteOperations.UnsafeWrap(e.Payload) });
            }

            await responseStream.WriteAsync(r, context.CancellationToken).ConfigureAwait(false);
        }
    }

    public override async Task<CorruptionCheckResponse> CorruptionCheck(CorruptionCheckRequest request, ServerCallContext context)
    {
        var r = CorruptionProtoMapping.ToProto(await node.CheckCorruptionAsync(context.CancellationToken).ConfigureAwait(false));
        r.Header = Header();
        return r;
    }

    private ResponseHeader Header() => NativeHeader.For(node);
}
