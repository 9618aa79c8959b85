using System.Collections.Concurrent;
using Grpc.Net.Client;
using RaftKv.Protocol.V1;
using RaftKv.Replication.Api;
using RaftKv.Server.Security;

namespace RaftKv.Server.Grpc;

/// <summary>
/// The member-to-member calls over the native gRPC API: the corruption check's <c>Cluster/StateHash</c> on
/// each member and <c>Cluster/CorruptionCheck</c> on the leader (a follower's start-up check), and a
/// leadership transfer's <c>Cluster/HoldElections</c> (<see cref="ILeadershipPeers"/>), a follower's <c>Cluster/ReadIndex</c>
/// (<see cref="ILeaderReadIndex"/>), a leaderless member's <c>Cluster/Members</c> (<see cref="IMembershipPeers"/>). Members are
/// reached at the gRPC address they publish in their Raft metadata, over the same transport as
/// forwarded writes (<see cref="LeaderTransport"/>: TLS and the node's client certificate when TLS is on);
/// one channel per address.
/// </summary>
public sealed class GrpcStateHashPeers(LeaderTransport transport) : IStateHashPeers, ILeadershipPeers, ILearnerPeers, ILeaderReadIndex, IMembershipPeers, ISimpleTokenPeers, IDisposable
{
    /// <summary>etcd's Maintenance/Alarm (the etcd protos are compiled with server stubs only).</summary>
    private static readonly global::Grpc.Core.Method<Protocol.Etcd.AlarmRequest, Protocol.Etcd.AlarmResponse> EtcdAlarm = new(
        global::Grpc.Core.MethodType.Unary,
        Pipeline.GrpcErrors.EtcdPackage + ".Maintenance",
        "Alarm",
        Pipeline.ProtobufMarshaller<Protocol.Etcd.AlarmRequest>.Instance,
        Pipeline.ProtobufMarshaller<Protocol.Etcd.AlarmResponse>.Instance);

    private readonly ConcurrentDictionary<string, GrpcChannel> _channels = new(StringComparer.Ordinal);

    /// <summary>This member's token when auth is on (set by Program once the auth gate exists): sent as
    /// metadata <c>token</c>, so other members accept the calls (Security/Auth/AuthTokens.cs, member tokens).</summary>
    public Func<string?>? NodeToken { get; set; }

    /// <summary>LEARNER_TOKEN (null = none): sent on this learner's <c>Cluster/TailLog</c> as metadata
    /// <see cref="Pipeline.GrpcAuthInterceptor.LearnerTokenHeader"/>, so a leader with auth enabled accepts the stream.</summary>
    public string? LearnerToken { get; set; }

    public async Task<StateHash> GetStateHashAsync(MemberInfo member, long index, CancellationToken cancellationToken)
    {
        var r = await Client(member).StateHashAsync(new StateHashRequest { Index = (ulong)index }, Credentials(), cancellationToken: cancellationToken).ConfigureAwait(false);
        return CorruptionProtoMapping.ToApi(r);
    }

    public async Task<CorruptionCheckResult> RequestCheckAsync(MemberInfo leader, CancellationToken cancellationToken)
        => CorruptionProtoMapping.ToApi(await Client(leader).CorruptionCheckAsync(new CorruptionCheckRequest(), Credentials(), cancellationToken: cancellationToken).ConfigureAwait(false));

    public async Task<long> HoldElectionsAsync(MemberInfo member, TimeSpan duration, CancellationToken cancellationToken)
    {
        var request = new HoldElectionsRequest { DurationMs = (uint)Math.Clamp(duration.TotalMilliseconds, 0, uint.MaxValue) };
        var r = await Client(member).HoldElectionsAsync(request, Credentials(), cancellationToken: cancellationToken).ConfigureAwait(false);
        return (long)r.LastLogIndex;
    }

    /// <summary>A follower's read index from the leader over <c>Cluster/ReadIndex</c> (KvNode.FollowerReadIndex.cs); no
    /// credentials (the call is open). Any RPC error throws (the read falls back to DotNext's barrier).</summary>
    public async Task<LeaderReadIndex> ReadIndexAsync(MemberInfo leader, long term, long commitIndex, CancellationToken cancellationToken)
    {
        var request = new ReadIndexRequest { Term = (ulong)term, CommitIndex = (ulong)Math.Max(0, commitIndex) };
        var r = await Client(leader).ReadIndexAsync(request, cancellationToken: cancellationToken).ConfigureAwait(false);
        return new LeaderReadIndex((long)r.Term, (long)r.Index);
    }

    /// <summary>A simple token through the leader's log over <c>Cluster/AssignSimpleToken</c> (KvNode.SimpleTokens.cs), with
    /// this member's token. A refusal for a changed user is <see cref="AuthException"/> (AuthOldRevision); the leader's
    /// other refusals and transport failures are <see cref="NotLeaderException"/> / <see cref="UnavailableException"/>
    /// (the caller retries within its deadline).</summary>
    public async Task<long> AssignSimpleTokenAsync(MemberInfo leader, SimpleTokenGrant grant, CancellationToken cancellationToken)
    {
        var request = new AssignSimpleTokenRequest { User = grant.User, Digest = Google.Protobuf.ByteString.CopyFrom(grant.Digest), AuthRevision = (ulong)grant.Revision };
        AssignSimpleTokenResponse r;
        try
        {
            r = await Client(leader).AssignSimpleTokenAsync(request, Credentials(), cancellationToken: cancellationToken).ConfigureAwait(false);
        }
        catch (global::Grpc.Core.RpcException e) when (e.StatusCode == global::Grpc.Core.StatusCode.FailedPrecondition)
        {
            throw new NotLeaderException(null);
        }
        catch (global::Grpc.Core.RpcException e) when (!cancellationToken.IsCancellationRequested)
        {
            throw new UnavailableException($"the leader did not assign the token ({e.StatusCode})", inner: e);
        }

        return r.Stale ? throw new AuthException(AuthError.AuthOldRevision, "revision of auth store is old") : (long)r.Index;
    }

    /// <summary>The member list <paramref name="member"/> serves from its own view over <c>Cluster/Members</c>
    /// (KvNode.Removal.cs).</summary>
    public async Task<IReadOnlyList<MemberInfo>> MembersAsync(MemberInfo member, CancellationToken cancellationToken)
    {
        var r = await Client(member).MembersAsync(new MembersRequest(), Credentials(), cancellationToken: cancellationToken).ConfigureAwait(false);
        return r.Members.Select(ProtoMapping.ToApi).ToList();
    }

    /// <summary>A learner's tail of the leader's log over <c>Cluster/TailLog</c> (KvNode.Learner.cs).</summary>
    public async IAsyncEnumerable<LearnerTailItem> TailAsync(MemberInfo member, LearnerTailRequest request, [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var call = Client(member).TailLog(
            new TailLogRequest { NodeId = (ulong)request.NodeId, RaftAddress = request.RaftAddress, GrpcAddress = request.GrpcAddress, HttpAddress = request.HttpAddress, FromIndex = (ulong)request.FromIndex },
            TailCredentials(request.PullCredential),
            cancellationToken: cancellationToken);
        using (call)
        {
            while (await NextAsync(call.ResponseStream, cancellationToken).ConfigureAwait(false))
            {
                var r = call.ResponseStream.Current;
                yield return new LearnerTailItem(
                    r.Entries.Select(e => new LearnerTailEntry((long)e.Index, (long)e.Term, e.IsConfiguration, e.Payload.ToByteArray())).ToList(),
                    r.SnapshotChunk.IsEmpty ? null : r.SnapshotChunk.ToByteArray(),
                    (long)r.SnapshotIndex,
                    (long)r.SnapshotTerm,
                    r.SnapshotDone,
                    (long)r.CommitIndex);
            }
        }
    }

    /// <summary>The next message; a not-the-leader refusal becomes <see cref="NotLeaderException"/> naming the leader.</summary>
    private static async Task<bool> NextAsync(global::Grpc.Core.IAsyncStreamReader<TailLogResponse> stream, CancellationToken cancellationToken)
    {
        try
        {
            return await stream.MoveNext(cancellationToken).ConfigureAwait(false);
        }
        catch (global::Grpc.Core.RpcException e) when (e.StatusCode == global::Grpc.Core.StatusCode.FailedPrecondition && e.Trailers.GetValue(Pipeline.GrpcErrors.LeaderTrailer) is { Length: > 0 } leader)
        {
            throw new NotLeaderException(new MemberInfo(0, string.Empty, leader, string.Empty, true, false, true));
        }
    }

    /// <summary>Over etcd's <c>Maintenance/Alarm</c> ACTIVATE on the leader (member tokens may call it).</summary>
    public async Task RaiseAlarmAsync(MemberInfo leader, AlarmType alarm, long memberId, CancellationToken cancellationToken)
    {
        var request = new Protocol.Etcd.AlarmRequest
        {
            Action = Protocol.Etcd.AlarmRequest.Types.AlarmAction.Activate,
            Alarm = (Protocol.Etcd.AlarmType)(int)alarm,
            MemberID = Etcd.EtcdIdentity.MemberId(memberId),
        };
        await Channel(leader).CreateCallInvoker()
            .AsyncUnaryCall(EtcdAlarm, null, new global::Grpc.Core.CallOptions(Credentials(), cancellationToken: cancellationToken), request)
            .ResponseAsync.ConfigureAwait(false);
    }

    public void Dispose()
    {
        foreach (var c in _channels.Values)
        {
            c.Dispose();
        }
    }

    /// <summary>The member token when this node can sign one (it holds the cluster key once caught up), the learner token, and
    /// a voting member's snapshot pull credential.</summary>
    private global::Grpc.Core.Metadata? TailCredentials(string? pullCredential)
    {
        var metadata = Credentials() ?? [];
        if (pullCredential is { Length: > 0 })
        {
            metadata.Add(Pipeline.GrpcAuthInterceptor.PullCredentialHeader, pullCredential);
        }

        if (LearnerToken is { Length: > 0 } learner)
        {
            metadata.Add(Pipeline.GrpcAuthInterceptor.LearnerTokenHeader, learner);
        }

        return metadata.Count == 0 ? null : metadata;
    }

    private global::Grpc.Core.Metadata? Credentials() => NodeToken?.Invoke() is { } token ? new global::Grpc.Core.Metadata { { "token", token } } : null;

    private Protocol.V1.Cluster.ClusterClient Client(MemberInfo member) => new(Channel(member));

    private GrpcChannel Channel(MemberInfo member)
    {
        if (member.GrpcAddress.Length == 0)
        {
            throw new UnavailableException($"member {member.Id}'s gRPC address is not known yet");
        }

        return _channels.GetOrAdd(member.GrpcAddress, transport.CreateChannel);
    }
}
