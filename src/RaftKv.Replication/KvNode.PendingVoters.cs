using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Logging;
using RaftKv.Replication.Api;
using RaftKv.Replication.Commands;
using NotLeaderException = RaftKv.Replication.Api.NotLeaderException;

namespace RaftKv.Replication;

/// <summary>
/// etcd's order for a new voter — <c>etcdctl member add</c> first, then start the member — on DotNext 6.12, whose
/// <c>AddMemberAsync</c> must reach the new node (it catches it up before the configuration holding it commits).
/// </summary>
/// <remarks>
/// <para><see cref="AddVoterAsync"/> adds a node that already answers at once, as <see cref="AddMemberAsync"/> does. A node
/// that does not answer yet (not started, or its host name does not resolve yet — a pod not created) is recorded
/// instead: the leader replicates a <see cref="LearnerChangeKind.Moved"/> record for its Raft address under a
/// provisional id (<see cref="MemberInfo.ProvisionalIdOf"/>), the record a moved voter waits in (KvNode.MemberUpdate.cs). Every
/// member lists it — etcd's "unstarted" member: no name, no client URL — and it is in no quorum meanwhile. Once the
/// address answers, the leader (any leader: the record is replicated) adds it to DotNext's configuration; DotNext's
/// warm-up catches it up first, then it votes, and <see cref="LearnerChangeKind.Promoted"/> ends the record
/// (<see cref="RejoinMovedMembersAsync"/>). <c>member remove</c> of the provisional id drops the record; it is never added then.</para>
/// <para>Safer than etcd, which counts an unstarted voter in the quorum from the add on (a one-member cluster stops
/// accepting writes until the new member runs): here the quorum changes only when the new member has caught up.
/// The node is started as a joining member (<c>INITIAL_CLUSTER_STATE=existing</c>, its <c>PEERS</c> listing the cluster
/// and itself), as for an add of a running node.</para>
/// </remarks>
public sealed partial class KvNode
{
    public async Task<MemberInfo> AddVoterAsync(string raftAddress, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(raftAddress);
        if (!IsLeader)
        {
            throw new NotLeaderException(GetStatus().Leader);
        }

        if (await AddressAnswersAsync(raftAddress, cancellationToken).ConfigureAwait(false))
        {
            await AddMemberAsync(new MemberInfo(0, raftAddress, string.Empty, string.Empty, false, false, true), cancellationToken).ConfigureAwait(false);
            return Members().FirstOrDefault(m => SameAddress(m.RaftAddress, raftAddress))
                ?? new MemberInfo(0, raftAddress, string.Empty, string.Empty, false, false, true);
        }

        if (_cluster.Members.Any(m => SameAddress(m.EndPoint.ToString() ?? string.Empty, raftAddress)) || _state.Learners.Find(raftAddress) is not null || _state.Learners.FindMoved(raftAddress) is not null)
        {
            throw new ArgumentException($"a member with Raft address {raftAddress} already exists");
        }

        var unsupported = VotersWithout(FeatureMemberUpdate);
        if (unsupported.Count > 0)
        {
            throw new UnavailableException($"member {raftAddress} does not answer yet, and adding a voter before it starts needs every member on a release that supports it; member(s) {string.Join(", ", unsupported.Select(m => m.Id))} do not (yet): start it first, then add it");
        }

        // Under the move lock: a move's checks and a pending add's record are not interleaved (both write moved records).
        await _memberUpdateLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var change = new LearnerChange(LearnerChangeKind.Moved, MemberInfo.ProvisionalIdOf(raftAddress), raftAddress, string.Empty, string.Empty);
            await ProposeAsync(new KvCommand(CommandKind.Learner, NextTimestamp(), null, null, Learner: change), cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            _memberUpdateLock.Release();
        }

        LogPendingVoter(_logger, raftAddress);
        return _state.Learners.FindMoved(raftAddress) ?? throw new UnavailableException($"member {raftAddress} was added but is not listed yet");
    }

    /// <summary>Whether <paramref name="raftAddress"/> resolves and accepts a TCP connection now (within a second to
    /// resolve and the connect timeout); a malformed address is bad input.</summary>
    private async Task<bool> AddressAnswersAsync(string raftAddress, CancellationToken cancellationToken)
    {
        IPEndPoint ep;
        try
        {
            ep = await EndPoints.ResolveAsync(raftAddress, TimeSpan.FromSeconds(1), cancellationToken).ConfigureAwait(false);
        }
        catch (FormatException e)
        {
            throw new ArgumentException($"member address {raftAddress} is not host:port", e);
        }
        catch (SocketException)
        {
            return false; // does not resolve (yet)
        }

        return await AnswersAsync(ep, cancellationToken).ConfigureAwait(false);
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Member at {Address} added before it started (etcd MemberAdd): it is listed as unstarted, in no quorum, and is added to the configuration once it answers")]
    private static partial void LogPendingVoter(ILogger logger, string address);

    [LoggerMessage(Level = LogLevel.Information, Message = "Member at {Address}, added before it started, answers: caught up and added as a voter")]
    private static partial void LogPendingVoterJoined(ILogger logger, string address);
}
