using System.Globalization;
using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Logging;
using RaftKv.Replication.Api;
using RaftKv.Replication.Commands;
using RaftKv.Replication.Diagnostics;
using RaftKv.Replication.Log;
using NotLeaderException = RaftKv.Replication.Api.NotLeaderException;

namespace RaftKv.Replication;

public sealed partial class KvNode
{
    /// <summary>AppendEntries calls this node answered only after fsyncing its log (as a follower).</summary>
    public long FollowerFlushWaits => _log.FollowerFlushWaits;

    /// <summary>Replication rounds this node, as leader, skipped for a follower too far behind (<see cref="SlowMemberLog"/>).</summary>
    public long SkippedReplicationRounds => SlowMembers?.SkippedRounds ?? 0;

    /// <summary>Raft log flushes (write + fsync) so far.</summary>
    public long LogFlushes => _log.Flushes;

    /// <summary>Entries whose leader-resolved value compare went stale at apply (re-proposed).</summary>
    public long ValueCompareConflicts => Interlocked.Read(ref _state.ValueCompareConflicts);

    /// <summary>Whether this node currently holds leadership.</summary>
    public bool IsLeader => _cluster.Leader is { IsRemote: false } && !_cluster.LeadershipToken.IsCancellationRequested;

    public (long Term, long AppliedIndex, string LeaderGrpc) HeaderInfo()
    {
        var leaderGrpc = _cluster.Leader is { } leader ? MetaOf(leader).Grpc : string.Empty;
        return (Term, _log.LastAppliedIndex, leaderGrpc);
    }

    /// <summary>The Raft term this node reports: its own, or on a learner (whose DotNext, in standby outside every
    /// configuration, stays at term 0) the term of the last entry it applied from the leader's log.</summary>
    private long Term => IsLearner ? Math.Max(_log.Term, _state.TermAt(_log.LastAppliedIndex)) : _log.Term;

    public long? LeaderId => _cluster.Leader is { } leader ? MetaOf(leader).Id : IsLearner ? _tailSource?.Id : null; // as GetStatus

    public NodeStatus GetStatus()
    {
        var members = Members();
        var leader = members.FirstOrDefault(m => m.IsLeader) ?? (IsLearner ? _tailSource : null); // a learner: the leader it tails
        return new NodeStatus
        {
            NodeId = NodeId,
            Term = Term,
            Role = IsLeader ? "leader" : IsLearner ? "learner" : _cluster.Standby ? "standby" : leader is null ? "candidate" : "follower",
            LeaderId = leader?.Id,
            Leader = leader,
            CommitIndex = _log.LastCommittedIndex,
            AppliedIndex = _log.LastAppliedIndex,
            DurableIndex = _store.DurableIndex,
            LastLogIndex = _log.LastIndex,
            LogicalClockUnixMs = _state.LogicalClock,
            SnapshotsTaken = Interlocked.Read(ref _state.SnapshotsTaken),
            SnapshotsInstalled = Interlocked.Read(ref _state.SnapshotsInstalled),
            LeaderChangesSeen = Interlocked.Read(ref _leaderChangesSeen),
            ProposalsPending = Interlocked.Read(ref _proposalsPending),
            ProposalsFailed = Interlocked.Read(ref _proposalsFailed),
            Members = members,
        };
    }

    /// <summary>A member's node id and client endpoints (this node's own, or as published in its Raft metadata).</summary>
    private (long Id, string Grpc, string Http, string Features) MetaOf(DotNext.Net.Cluster.Consensus.Raft.RaftClusterMember m)
    {
        if (!m.IsRemote)
        {
            return (NodeId, _options.GrpcAdvertise, _options.HttpAdvertise, _features);
        }

        lock (_metaLock)
        {
            return _memberMeta.TryGetValue(m.EndPoint, out var known) ? known
                : _cachedMeta.TryGetValue(m.EndPoint.ToString() ?? string.Empty, out var cached) ? (cached.Id, cached.Grpc, cached.Http, string.Empty) // MemberMetaCache: features unknown until it answers
                : (0, string.Empty, string.Empty, string.Empty);
        }
    }

    /// <summary>The members, with their metadata fetched first if <paramref name="id"/> is not among the
    /// known ids while some member's metadata is still unknown (just started, just added, just elected):
    /// a real member is never refused as unknown because its id was not fetched yet.</summary>
    private async Task<List<MemberInfo>> MembersKnowingAsync(long id, CancellationToken cancellationToken)
    {
        var members = Members();
        if (id > 0 && !members.Any(m => m.Id == id) && members.Any(m => m.Id == 0))
        {
            await RefreshMetadataAsync(cancellationToken).ConfigureAwait(false);
            members = Members();
        }

        return members;
    }

    private List<MemberInfo> Members()
    {
        var leader = _cluster.Leader;
        var result = new List<MemberInfo>();
        var learner = IsLearner;
        foreach (var m in _cluster.Members)
        {
            if (learner && !m.IsRemote)
            {
                continue; // a learner's own DotNext configuration lists it, but it is no voter (listed below)
            }

            var meta = MetaOf(m);

            result.Add(new MemberInfo(
                meta.Id,
                m.EndPoint.ToString() ?? string.Empty,
                meta.Grpc,
                meta.Http,
                leader is not null && Equals(leader.EndPoint, m.EndPoint),
                !m.IsRemote,
                !m.IsRemote || m.Status == DotNext.Net.Cluster.ClusterMemberStatus.Available));
        }

        result.AddRange(ListedLearners(result.ConvertAll(m => m.RaftAddress))); // KvNode.Learners.cs
        foreach (var moved in _state.Learners.Moved) // KvNode.MemberUpdate.cs: at its new address until it is back
        {
            if (!result.Any(m => (m.Id == moved.Id && m.Id != 0) || SameAddress(m.RaftAddress, moved.RaftAddress)))
            {
                var self = IsSelfAddress(moved.RaftAddress);
                result.Add(moved with { IsLocal = self, Available = self });
            }
        }

        if (learner && !result.Any(m => m.IsLocal))
        {
            result.Add(new MemberInfo(NodeId, _options.RaftAdvertise, _options.GrpcAdvertise, _options.HttpAdvertise, false, true, true, IsLearner: true));
        }

        return result.OrderBy(m => m.Id).ToList();
    }

    public async Task AddMemberAsync(MemberInfo member, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(member);
        await LeaderCaughtUpAsync(cancellationToken).ConfigureAwait(false);

        IPEndPoint ep;
        try
        {
            ep = await EndPoints.ResolveAsync(member.RaftAddress, TimeSpan.FromSeconds(5), cancellationToken).ConfigureAwait(false);
        }
        catch (SocketException e)
        {
            // A host name that does not resolve is a node not reachable yet (a 503 to retry), not a server failure.
            throw new UnavailableException($"member {member.RaftAddress} is not reachable: its host name does not resolve ({e.Message})", inner: e);
        }

        // Leadership moved during the warm-up or the change: a 503 (chaos long5 seed 1, 2026-12-04: it was a 500), and
        // "outcome unknown" once the change may have been appended (KvNode.ConfigurationChange.cs).
        var added = await ChangeConfigurationAsync(() => _cluster.AddMemberAsync(ep, cancellationToken), $"the addition of {member.RaftAddress}", cancellationToken).ConfigureAwait(false);

        if (!added)
        {
            throw new UnavailableException($"member {member.RaftAddress} could not be added (unreachable, or the change did not commit)");
        }

        await UntilMembersShowAsync(() => _cluster.Members.Any(m => m.EndPoint.Equals(ep)), cancellationToken).ConfigureAwait(false);
    }

    public async Task RemoveMemberAsync(long id, CancellationToken cancellationToken = default)
    {
        await LeaderCaughtUpAsync(cancellationToken).ConfigureAwait(false);

        var moved = id == 0 ? null : _state.Learners.Moved.FirstOrDefault(m => m.Id == id);
        if (moved is not null)
        {
            // A moved member is not added back at its new address once removed (nor while its old address is removed below).
            await ProposeAsync(new KvCommand(CommandKind.Learner, NextTimestamp(), null, null, Learner: new LearnerChange(LearnerChangeKind.Remove, moved.Id, moved.RaftAddress, string.Empty, string.Empty)), cancellationToken).ConfigureAwait(false);
            if (!_cluster.Members.Any(m => MetaOf(m).Id == id))
            {
                return;
            }
        }

        if (await TryRemoveLearnerAsync(id, cancellationToken).ConfigureAwait(false))
        {
            return; // KvNode.Learners.cs: a learner leaves the replicated list; DotNext's configuration never held it
        }

        var target = (await MembersKnowingAsync(id, cancellationToken).ConfigureAwait(false)).FirstOrDefault(m => m.Id == id && !m.IsLearner) ?? throw new MemberNotFoundException(id);
        var ep = _cluster.Members.First(m => (m.EndPoint.ToString() ?? string.Empty) == target.RaftAddress).EndPoint;
        LogRemovingMember(_logger, id, ep.ToString() ?? string.Empty);
        var removed = await ChangeConfigurationAsync(() => _cluster.RemoveMemberAsync(ep, cancellationToken), $"the removal of member {id}", cancellationToken, removesSelf: target.IsLocal).ConfigureAwait(false);

        if (!removed)
        {
            throw new UnavailableException($"member {id} could not be removed");
        }

        await UntilMembersShowAsync(() => !_cluster.Members.Any(m => m.EndPoint.Equals(ep)), cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Refuses unless this node leads, then waits until it has applied everything committed so far (the read
    /// barrier): a membership change is judged against the replicated learner list and member metadata, which a
    /// leader elected a moment ago may not have applied up to its commit index yet (an entry of its own term
    /// commits first).
    /// </summary>
    private async Task LeaderCaughtUpAsync(CancellationToken cancellationToken)
    {
        if (!IsLeader)
        {
            throw new NotLeaderException(GetStatus().Leader);
        }

        await BarrierAsync(ReadConsistency.Linearizable, cancellationToken).ConfigureAwait(false);
        if (!IsLeader)
        {
            throw new NotLeaderException(GetStatus().Leader);
        }
    }

    /// <summary>
    /// Waits until this node's member list shows a configuration change that has committed and applied: DotNext
    /// applies the new configuration to its member list on a background loop, after <c>AddMemberAsync</c> /
    /// <c>RemoveMemberAsync</c> returned, so a <c>member list</c> (or a retried <c>member add</c> of the same
    /// address) right after the change could still see the old list (CorruptionCheckTests: an add right after a
    /// remove found the removed address still listed and did nothing). Bounded by the operation timeout: the
    /// change itself is durable either way.
    /// </summary>
    private async Task UntilMembersShowAsync(Func<bool> shown, CancellationToken cancellationToken)
    {
        var deadline = _options.TimeProvider.GetUtcNow() + _options.OperationTimeout;
        while (!shown() && _options.TimeProvider.GetUtcNow() < deadline)
        {
            await Task.Delay(TimeSpan.FromMilliseconds(5), _options.TimeProvider, cancellationToken).ConfigureAwait(false);
        }
    }

    public async Task FlushAsync(CancellationToken cancellationToken = default)
    {
        await _store.FlushAsync(cancellationToken).ConfigureAwait(false);
        await SnapshotAndDropLogAsync(cancellationToken).ConfigureAwait(false);
    }

    public async Task CompactAsync(CancellationToken cancellationToken = default)
    {
        // Defragmentation's point is giving space back. A snapshot first lets the log below it be dropped
        // (room for the compaction's output on a nearly full disk); one after it releases the old tables'
        // hard links held by the previous snapshot.
        await SnapshotAndDropLogAsync(cancellationToken).ConfigureAwait(false);
        await _store.CompactAsync(_state.LogicalClock, cancellationToken).ConfigureAwait(false);
        await SnapshotAndDropLogAsync(cancellationToken).ConfigureAwait(false);
        CheckSpace(); // KvNode.Space.cs: a disarm right after this sees the space it freed
    }

    /// <summary>A snapshot, and the log below it (but the retained tail) dropped now rather than after the next apply.</summary>
    private async Task SnapshotAndDropLogAsync(CancellationToken cancellationToken)
    {
        await _state.TakeSnapshotAsync(cancellationToken).ConfigureAwait(false);
        if (_log is RaftLog raftLog)
        {
            await raftLog.CompactNowAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    private async Task RefreshMetadataAsync(CancellationToken token)
    {
        foreach (var m in _cluster.Members)
        {
            if (!m.IsRemote)
            {
                continue;
            }

            lock (_metaLock)
            {
                // Fetched once, except from members without the newest features: during a rolling
                // upgrade such a member comes back on the new release at the same address.
                if (_memberMeta.TryGetValue(m.EndPoint, out var known) && FeaturesNewest.All(f => known.Features.Split(',').Contains(f, StringComparer.Ordinal)))
                {
                    continue;
                }
            }

            try
            {
                using var timeout = CancellationTokenSource.CreateLinkedTokenSource(token);
                timeout.CancelAfter(_options.RequestTimeout);
                var meta = await m.GetMetadataAsync(refresh: true, timeout.Token).ConfigureAwait(false);
                var id = meta.TryGetValue(MetaNodeId, out var s) && long.TryParse(s, CultureInfo.InvariantCulture, out var parsed) ? parsed : 0;
                lock (_metaLock)
                {
                    _memberMeta[m.EndPoint] = (id, meta.GetValueOrDefault(MetaGrpc, string.Empty), meta.GetValueOrDefault(MetaHttp, string.Empty), meta.GetValueOrDefault(MetaFeatures, string.Empty));
                }
            }
            catch (Exception e) when (e is not OperationCanceledException || !token.IsCancellationRequested)
            {
                // Unreachable right now; try again on the next round.
            }
        }

        SaveMemberMeta();
    }

    /// <summary>Brings the remembered metadata (and <c>{DATA_DIR}/member-meta</c>, <see cref="MemberMetaCache"/>) up to date
    /// with the metadata fetched and the ids learned from other members (KvNode.MemberIds.cs): written only when an entry
    /// changed. Metadata loop only.</summary>
    private void SaveMemberMeta()
    {
        Dictionary<string, (long Id, string Grpc, string Http)> next;
        lock (_metaLock)
        {
            // Entries are never dropped on absence: DotNext's member list can be partial for a moment while it applies a
            // configuration (a follower once listed only itself right after an election), and a dropped entry of a dead
            // member is lost for good. A stale entry is harmless: fetched metadata wins (MetaOf), and replaces it here.
            next = new Dictionary<string, (long, string, string)>(_cachedMeta, StringComparer.OrdinalIgnoreCase);
            foreach (var (address, learned) in _learnedMeta)
            {
                next[address] = learned;
            }

            foreach (var m in _cluster.Members.Where(m => m.IsRemote))
            {
                if (_memberMeta.TryGetValue(m.EndPoint, out var known) && known.Id > 0)
                {
                    next[m.EndPoint.ToString() ?? string.Empty] = (known.Id, known.Grpc, known.Http);
                }
            }

            if (next.Count == _cachedMeta.Count && next.All(e => _cachedMeta.TryGetValue(e.Key, out var c) && c == e.Value))
            {
                return;
            }

            _cachedMeta = next;
        }

        if (MetaCache is { } cache && cache.Save(next) is { } error)
        {
            LogBackgroundError(_logger, "member-meta", error.Message);
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Removing member {Id} (Raft address {Address}) from the configuration")]
    private static partial void LogRemovingMember(ILogger logger, long id, string address);

    private static bool Equals(EndPoint? a, EndPoint? b) => a is not null && b is not null && a.Equals(b);
}
