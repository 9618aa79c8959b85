using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Logging;
using RaftKv.Replication.Api;
using RaftKv.Replication.Commands;
using NotLeaderException = RaftKv.Replication.Api.NotLeaderException;

namespace RaftKv.Replication;

/// <summary>
/// Moving a voter to a new Raft address (etcd <c>MemberUpdate</c>; docs/architecture.md, "Moving a member").
/// DotNext 6.12 keys a member by its address (<c>ClusterMemberId</c> is derived from the endpoint, and its
/// configuration is a list of endpoints), so an address cannot change in place; the move is DotNext's two
/// single-member changes in order, with the intent replicated so that any leader finishes it:
/// <list type="number">
/// <item>the leader replicates <see cref="LearnerChangeKind.Moved"/> (id, new address, client URLs): every member
/// lists the member at its new address from then on;</item>
/// <item>it removes the old address from DotNext's configuration (the old address receives nothing more, and the
/// node there turns standby when it applies the change);</item>
/// <item>the operator stops the node and starts it at its new address with its data directory; DotNext starts it
/// frozen (its address is in no configuration it holds), and the leader — any leader, the record is replicated —
/// sees the address answer and adds it (<see cref="RejoinMovedMembersAsync"/>): DotNext's warm-up only sends the
/// entries its log lacks, then the configuration holding it commits and it votes again; the leader then replicates
/// <see cref="LearnerChangeKind.Promoted"/>, which ends the record.</item>
/// </list>
/// Safety: at no time do both addresses sit in the configuration (the add waits until no voter carries the
/// member's id), so a node is never counted twice; a change is refused (<see cref="MemberUpdateRefusedException"/>)
/// when the remaining voters could not form a majority without the moving one, or when the moving one leads.
/// </summary>
public sealed partial class KvNode
{
    /// <summary>The feature a member lists when it applies <see cref="LearnerChangeKind.Moved"/>.</summary>
    internal const string FeatureMemberUpdate = "member-update";

    /// <summary>One move at a time on this leader: a move's majority check and its removal are not interleaved with
    /// another move's (two moves checked against the same configuration could both pass and remove two voters).</summary>
    private readonly SemaphoreSlim _memberUpdateLock = new(1, 1);

    /// <summary>Voters moved by <see cref="UpdateMemberAsync"/> and not back at their new address yet (replicated).</summary>
    public IReadOnlyList<MemberInfo> MovedMembers => _state.Learners.Moved;

    public async Task UpdateMemberAsync(long id, string raftAddress, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(raftAddress);
        await _memberUpdateLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            await UpdateMemberLockedAsync(id, raftAddress, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            _memberUpdateLock.Release();
        }
    }

    private async Task UpdateMemberLockedAsync(long id, string raftAddress, CancellationToken cancellationToken)
    {
        if (!IsLeader)
        {
            throw new NotLeaderException(GetStatus().Leader);
        }

        var members = await MembersKnowingAsync(id, cancellationToken).ConfigureAwait(false);
        var target = members.FirstOrDefault(m => m.Id == id && id != 0) ?? throw new MemberNotFoundException(id);
        if (SameAddress(target.RaftAddress, raftAddress))
        {
            return; // etcd: the member's own peer URL again succeeds and changes nothing
        }

        if (members.Any(m => m.Id != id && SameAddress(m.RaftAddress, raftAddress)))
        {
            throw new ArgumentException($"a member with Raft address {raftAddress} already exists");
        }

        if (target.IsLearner)
        {
            throw new MemberUpdateRefusedException(id, "it is a learner (known by its Raft address): remove it and add it again at the new address");
        }

        var unsupported = VotersWithout(FeatureMemberUpdate);
        if (unsupported.Count > 0)
        {
            throw new UnavailableException($"moving a member needs every member on a release that supports it; member(s) {string.Join(", ", unsupported.Select(m => m.Id))} do not (yet)");
        }

        var change = new LearnerChange(LearnerChangeKind.Moved, id, raftAddress, target.GrpcAddress, target.HttpAddress);
        var voter = _cluster.Members.FirstOrDefault(m => SameAddress(m.EndPoint.ToString() ?? string.Empty, target.RaftAddress));
        if (voter is null)
        {
            // Already moved and not back yet: only its new address changes.
            await ProposeAsync(new KvCommand(CommandKind.Learner, NextTimestamp(), null, null, Learner: change), cancellationToken).ConfigureAwait(false);
            return;
        }

        if (!voter.IsRemote)
        {
            throw new MemberUpdateRefusedException(id, "it is the leader: move leadership to another member first (etcdctl move-leader), then update it");
        }

        var others = _cluster.Members.Where(m => !ReferenceEquals(m, voter)).ToList();
        var reachable = others.Count(m => !m.IsRemote || m.Status == DotNext.Net.Cluster.ClusterMemberStatus.Available);
        if (reachable < (others.Count / 2) + 1)
        {
            throw new MemberUpdateRefusedException(id, $"until it is back at its new address the cluster has {others.Count} voter(s) without it and only {reachable} of them are reachable, not a majority: bring the unreachable members back first");
        }

        // The record first: a leader that fails after it still lists the member, and the caller retries the update,
        // which removes the old address then. Never the other way round (a removed member nobody would add back).
        await ProposeAsync(new KvCommand(CommandKind.Learner, NextTimestamp(), null, null, Learner: change), cancellationToken).ConfigureAwait(false);
        bool removed;
        try
        {
            removed = await ChangeConfigurationAsync(() => _cluster.RemoveMemberAsync(voter.EndPoint, cancellationToken), $"the removal of member {id}'s old address", cancellationToken).ConfigureAwait(false);
        }
        catch (DotNext.Net.Cluster.Consensus.Raft.RaftProtocolException e)
        {
            // DotNext's ConcurrentMembershipModificationException: another change (an add, a re-add) is running.
            throw new UnavailableException($"member {id} is listed at {raftAddress}, but its old address could not be removed yet ({e.Message}): retry the update");
        }

        if (!removed)
        {
            throw new UnavailableException($"member {id} is listed at {raftAddress}, but its old address {target.RaftAddress} could not be removed from the configuration: retry the update");
        }

        LogMemberMoved(_logger, id, target.RaftAddress, raftAddress);
    }

    /// <summary>The leader adds each moved member back once its new address answers, and ends the record of one
    /// already back (a leader that failed between the add and the <see cref="LearnerChangeKind.Promoted"/> entry).
    /// The same for a voter added before it started (a record under a provisional id, KvNode.PendingVoters.cs).</summary>
    private async Task RejoinMovedMembersAsync(CancellationToken token)
    {
        if (!IsLeader || _state.Learners.Moved.Count == 0)
        {
            return;
        }

        foreach (var moved in _state.Learners.Moved)
        {
            IPEndPoint ep;
            try
            {
                ep = await EndPoints.ResolveAsync(moved.RaftAddress, TimeSpan.FromSeconds(1), token).ConfigureAwait(false);
            }
            catch (Exception e) when (e is FormatException or SocketException)
            {
                continue; // a host name that does not resolve yet (the node is not back)
            }

            var voters = _cluster.Members.ToList();
            if (voters.Any(v => ep.Equals(v.EndPoint) || SameAddress(v.EndPoint.ToString() ?? string.Empty, moved.RaftAddress)))
            {
                await PublishLearnerAsync(new LearnerChange(LearnerChangeKind.Promoted, moved.Id, moved.RaftAddress, moved.GrpcAddress, moved.HttpAddress)).ConfigureAwait(false);
                continue;
            }

            // Never both addresses: not while a voter still carries its id (the old address was not removed: the
            // update is retried), nor while a voter's id is unknown (it could be that one).
            if (voters.Any(v => v.IsRemote && MetaOf(v).Id is var vid && (vid == moved.Id || vid == 0)))
            {
                continue;
            }

            if (!await AnswersAsync(ep, token).ConfigureAwait(false))
            {
                continue; // not restarted at its new address yet
            }

            if (!moved.IsProvisional)
            {
                // A moved member's id is known; a voter added before it started (KvNode.PendingVoters.cs) says its own.
                lock (_metaLock)
                {
                    _memberMeta[ep] = (moved.Id, moved.GrpcAddress, moved.HttpAddress, string.Empty);
                }
            }

            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(token);
            timeout.CancelAfter(_options.OperationTimeout * 2);
            bool added;
            try
            {
                added = await _cluster.AddMemberAsync(ep, timeout.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (!token.IsCancellationRequested)
            {
                continue; // the warm-up took too long: the next round tries again
            }

            if (added)
            {
                if (moved.IsProvisional)
                {
                    LogPendingVoterJoined(_logger, moved.RaftAddress);
                }
                else
                {
                    LogMemberBack(_logger, moved.Id, moved.RaftAddress);
                }

                await PublishLearnerAsync(new LearnerChange(LearnerChangeKind.Promoted, moved.Id, moved.RaftAddress, moved.GrpcAddress, moved.HttpAddress)).ConfigureAwait(false);
            }
        }
    }

    /// <summary>Whether something accepts a TCP connection at <paramref name="ep"/> (within the connect timeout).</summary>
    private async Task<bool> AnswersAsync(IPEndPoint ep, CancellationToken token)
    {
        try
        {
            using var socket = new Socket(ep.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(token);
            timeout.CancelAfter(_options.ConnectTimeout);
            await socket.ConnectAsync(ep, timeout.Token).ConfigureAwait(false);
            return true;
        }
        catch (Exception e) when (e is SocketException || (e is OperationCanceledException && !token.IsCancellationRequested))
        {
            return false;
        }
    }

    /// <summary>Set once the log is replayed at start: moves applied from then on are news, not history.</summary>
    private volatile bool _replayed;

    /// <summary>Warns when this node is listed as moved to another address than the one it advertises: the operator
    /// must restart it there (its PEERS entry, the Raft address it advertises, set to the new address), or the
    /// leader adds the new address while this node takes itself for a member of another address.</summary>
    private void WarnIfMovedAway()
    {
        if (_replayed && _state.Learners.Moved.FirstOrDefault(m => m.Id == NodeId) is { } moved && !IsSelfAddress(moved.RaftAddress))
        {
            LogMovedAway(_logger, NodeId, moved.RaftAddress, _options.RaftAdvertise);
        }
    }

    private static bool SameAddress(string a, string b) => string.Equals(a, b, StringComparison.OrdinalIgnoreCase);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Member {Id} moves from {OldAddress} to {NewAddress}: its old address left the configuration; restart it at the new address with its data directory and it is added back")]
    private static partial void LogMemberMoved(ILogger logger, long id, string oldAddress, string newAddress);

    [LoggerMessage(Level = LogLevel.Warning, Message = "This node (member {Id}) was moved to Raft address {NewAddress} (etcd MemberUpdate) but advertises {Advertised}: stop it and start it with its data directory and its PEERS entry (and RAFT_PORT) set to the new address")]
    private static partial void LogMovedAway(ILogger logger, long id, string newAddress, string advertised);

    [LoggerMessage(Level = LogLevel.Information, Message = "Member {Id} is back at {Address} and votes again")]
    private static partial void LogMemberBack(ILogger logger, long id, string address);
}
