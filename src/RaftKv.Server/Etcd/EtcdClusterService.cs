using Grpc.Core;
using RaftKv.Protocol.Etcd;
using RaftKv.Replication.Api;
using RaftKv.Server.Pipeline;

namespace RaftKv.Server.Etcd;

/// <summary>
/// etcdserverpb.Cluster over RaftKv's membership. <c>MemberList</c> answers from this node's view;
/// <c>MemberAdd</c>/<c>MemberRemove</c> map to <see cref="IKvNode.AddMemberAsync"/> /
/// <see cref="IKvNode.RemoveMemberAsync"/> (forwarded to the leader by the pipeline). A voter is added first and
/// started afterwards, as in etcd (<see cref="IKvNode.AddVoterAsync"/>: listed as unstarted until it answers, then
/// caught up, then it votes; one already running is added at once); a learner (<c>is_learner</c>) too,
/// as in etcd (application-level learners, docs/api.md "Learners"; <c>MemberPromote</c> makes it a voter once it
/// has caught up); <c>MemberUpdate</c> with a new peer URL moves the member (docs/operations.md, "Moving a node").
/// </summary>
public sealed class EtcdClusterService(IKvNode node, EtcdIdentity identity) : Cluster.ClusterBase
{
    public override Task<MemberListResponse> MemberList(MemberListRequest request, ServerCallContext context)
    {
        var r = new MemberListResponse { Header = identity.Header(0) };
        r.Members.AddRange(node.GetStatus().Members.Select(identity.ToMember));
        return Task.FromResult(r);
    }

    public override async Task<MemberAddResponse> MemberAdd(MemberAddRequest request, ServerCallContext context)
    {
        if (request.PeerURLs.Count != 1 || RaftAddressOf(request.PeerURLs[0]) is not { } raft)
        {
            throw GrpcErrors.Etcd.MemberBadUrls;
        }

        if (node.GetStatus().Members.Any(m => string.Equals(m.RaftAddress, raft, StringComparison.OrdinalIgnoreCase)))
        {
            throw GrpcErrors.Etcd.MemberPeerUrlExists;
        }

        if (request.IsLearner)
        {
            var learner = await node.AddLearnerAsync(raft, context.CancellationToken).ConfigureAwait(false);
            var all = node.GetStatus().Members;
            var response = new MemberAddResponse { Header = identity.Header(0), Member = identity.ToMember(all.FirstOrDefault(m => m.IsLearner && string.Equals(m.RaftAddress, raft, StringComparison.OrdinalIgnoreCase)) ?? learner) };
            response.Members.AddRange(all.Select(identity.ToMember));
            return response;
        }

        var voter = await node.AddVoterAsync(raft, context.CancellationToken).ConfigureAwait(false);
        var members = node.GetStatus().Members;
        var added = members.FirstOrDefault(m => string.Equals(m.RaftAddress, raft, StringComparison.OrdinalIgnoreCase)) ?? voter;
        var r = new MemberAddResponse { Header = identity.Header(0), Member = identity.ToMember(added) };
        r.Members.AddRange(members.Select(identity.ToMember));
        return r;
    }

    public override async Task<MemberRemoveResponse> MemberRemove(MemberRemoveRequest request, ServerCallContext context)
    {
        var id = Resolve(request.ID, node.GetStatus().Members) ?? throw GrpcErrors.Etcd.MemberNotFound;
        await node.RemoveMemberAsync(id, context.CancellationToken).ConfigureAwait(false);
        var r = new MemberRemoveResponse { Header = identity.Header(0) };
        r.Members.AddRange(node.GetStatus().Members.Select(identity.ToMember));
        return r;
    }

    /// <summary>Checked as etcd checks it (URLs, then the member, then a URL another member uses); the member's own
    /// peer URL again is a no-op that succeeds. A new peer URL moves the member (<see cref="IKvNode.UpdateMemberAsync"/>,
    /// on the leader: forwarded): its old address leaves the configuration at once, and the node restarted at the new
    /// address with its data directory is added back as the same member. Only peer URLs, as in etcd.</summary>
    public override async Task<MemberUpdateResponse> MemberUpdate(MemberUpdateRequest request, ServerCallContext context)
    {
        if (request.PeerURLs.Count != 1 || RaftAddressOf(request.PeerURLs[0]) is not { } raft)
        {
            throw GrpcErrors.Etcd.MemberBadUrls;
        }

        var members = node.GetStatus().Members;
        if (Resolve(request.ID, members) is not { } id || members.FirstOrDefault(m => m.Id == id) is not { } member)
        {
            throw GrpcErrors.Etcd.MemberNotFound;
        }

        if (members.Any(m => m.Id != id && string.Equals(m.RaftAddress, raft, StringComparison.OrdinalIgnoreCase)))
        {
            throw GrpcErrors.Etcd.MemberPeerUrlExists;
        }

        if (!string.Equals(member.RaftAddress, raft, StringComparison.OrdinalIgnoreCase))
        {
            await node.UpdateMemberAsync(id, raft, context.CancellationToken).ConfigureAwait(false); // MemberUpdateRefused: GrpcErrors.Etcd
        }

        var r = new MemberUpdateResponse { Header = identity.Header(0) };
        r.Members.AddRange(node.GetStatus().Members.Select(identity.ToMember));
        return r;
    }

    public override async Task<MemberPromoteResponse> MemberPromote(MemberPromoteRequest request, ServerCallContext context)
    {
        var id = Resolve(request.ID, node.GetStatus().Members) ?? throw GrpcErrors.Etcd.MemberNotFound;
        await node.PromoteLearnerAsync(id, context.CancellationToken).ConfigureAwait(false); // NotLearner / LearnerNotReady: GrpcErrors.Etcd
        var r = new MemberPromoteResponse { Header = identity.Header(0) };
        r.Members.AddRange(node.GetStatus().Members.Select(identity.ToMember));
        return r;
    }

    /// <summary>The member <paramref name="memberId"/> names: a listed id, or the provisional id <c>MemberAdd</c> printed for a
    /// member that has since connected and is listed under its NODE_ID (etcd's id never changes, so scripts keep the one
    /// <c>member add</c> printed: <c>member promote $ID</c>); null when it names none.</summary>
    private static long? Resolve(ulong memberId, IReadOnlyList<MemberInfo> members)
    {
        if (EtcdIdentity.NodeIdOf(memberId) is not { } id)
        {
            return null;
        }

        if (members.Any(m => m.Id == id))
        {
            return id;
        }

        return id >= MemberInfo.ProvisionalIdFloor ? members.FirstOrDefault(m => !m.IsProvisional && MemberInfo.ProvisionalIdOf(m.RaftAddress) == id)?.Id : null;
    }

    /// <summary>"http://host:port" (or https) → "host:port"; null if it is not one. As etcd's <c>types.NewURLs</c>, the
    /// scheme is http or https (etcd also takes unix sockets, which a Raft peer cannot be; a bare host:port is no URL to
    /// it), the port must be given (no scheme's default), and there is no path.</summary>
    internal static string? RaftAddressOf(string text)
    {
        return text.Contains("://", StringComparison.Ordinal) && Uri.TryCreate(text, UriKind.Absolute, out var u) && u.Scheme is "http" or "https" && HasPort(text) && u.Port > 0
            && u.Host.Length > 0 && (u.AbsolutePath is "/" or "")
            ? (u.HostNameType == UriHostNameType.IPv6 ? $"[{u.Host.Trim('[', ']')}]" : u.Host) + ":" + u.Port
            : null;
    }

    /// <summary>True when the URL's authority ends with <c>:port</c> (Uri fills in the scheme's default port).</summary>
    private static bool HasPort(string url)
    {
        var authority = url[(url.IndexOf("://", StringComparison.Ordinal) + 3)..];
        var end = authority.IndexOfAny(['/', '?', '#']);
        authority = end >= 0 ? authority[..end] : authority;
        var colon = authority.LastIndexOf(':');
        return colon > authority.LastIndexOf(']') && colon < authority.Length - 1;
    }
}
