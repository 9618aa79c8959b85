using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using RaftKv.Replication.Api;
using RaftKv.Replication.Commands;

namespace RaftKv.Replication;

/// <summary>
/// Application-level learners, the leader's side (docs/architecture.md, "Learners"). DotNext 6.12 has no
/// non-voting member, so a learner lives outside DotNext's configuration: it is listed in the replicated
/// learner list (<see cref="CommandKind.Learner"/>), tails the committed log from the leader over
/// <see cref="TailLogAsync"/> and never votes nor counts for a quorum. A promote stops its stream, then
/// adds it to DotNext's configuration (its log already matches, so DotNext's warm-up only sends the tail),
/// then replicates <see cref="LearnerChangeKind.Promoted"/>.
/// </summary>
public sealed partial class KvNode
{
    /// <summary>The feature a member lists in <see cref="MetaFeatures"/> when it applies <see cref="CommandKind.Learner"/>.</summary>
    internal const string FeatureLearners = "learners";

    /// <summary>etcd's <c>readyPercent</c>: a learner may be promoted once the index the leader has streamed to
    /// it is at least this fraction of the leader's commit index (and its stream is live).</summary>
    internal const double LearnerReadyFraction = 0.9;

    /// <summary>The leader's view of each learner's stream, by Raft address (in memory; a new leader starts empty).</summary>
    private readonly ConcurrentDictionary<string, LearnerProgress> _learnerProgress = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>Serializes learner adds on this leader: the <see cref="KvNodeOptions.MaxLearners"/> check and the proposal.</summary>
    private readonly SemaphoreSlim _learnerAddLock = new(1, 1);

    /// <summary>The application-level learners of the replicated list (provisional ids until they connected).</summary>
    public IReadOnlyList<MemberInfo> Learners => _state.Learners.Members;

    /// <summary>Adds a learner by its Raft address (etcd <c>MemberAdd</c> with <c>is_learner</c>): the leader
    /// replicates it into the learner list; the learner process then tails the log from the leader.
    /// <see cref="TooManyLearnersException"/> when the list already holds <see cref="KvNodeOptions.MaxLearners"/>.</summary>
    public async Task<MemberInfo> AddLearnerAsync(string raftAddress, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(raftAddress);
        await LeaderCaughtUpAsync(cancellationToken).ConfigureAwait(false); // KvNode.Cluster.cs

        if (_cluster.Members.Any(m => string.Equals(m.EndPoint.ToString(), raftAddress, StringComparison.OrdinalIgnoreCase)) || _state.Learners.Find(raftAddress) is not null)
        {
            throw new ArgumentException($"a member with Raft address {raftAddress} already exists");
        }

        var unsupported = VotersWithout(FeatureLearners);
        if (unsupported.Count > 0)
        {
            throw new UnavailableException($"learners need every member on a release that supports them; member(s) {string.Join(", ", unsupported.Select(m => m.Id))} do not (yet)");
        }

        // The limit is checked and the add proposed under one lock, so two adds racing on this leader cannot both
        // pass it; the list is replicated state, so a later leader counts every add this one committed.
        await _learnerAddLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (_state.Learners.Members.Count >= _options.MaxLearners)
            {
                throw new TooManyLearnersException(_options.MaxLearners);
            }

            _learnerProgress.TryRemove(raftAddress, out _); // a node once at this address (promoted, then removed) left nothing to reuse

            await ProposeAsync(new KvCommand(CommandKind.Learner, NextTimestamp(), null, null, Learner: new LearnerChange(LearnerChangeKind.Upsert, MemberInfo.ProvisionalIdOf(raftAddress), raftAddress, string.Empty, string.Empty)), cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            _learnerAddLock.Release();
        }

        return _state.Learners.Find(raftAddress) ?? throw new UnavailableException("the learner was added but is not listed yet");
    }

    /// <summary>Promotes learner <paramref name="id"/> to a voter (etcd <c>MemberPromote</c>). Refused with
    /// <see cref="LearnerNotReadyException"/> unless its stream to this leader is live and has reached
    /// <see cref="LearnerReadyFraction"/> of the commit index; <see cref="NotLearnerException"/> for a voter.</summary>
    public async Task PromoteLearnerAsync(long id, CancellationToken cancellationToken = default)
    {
        await LeaderCaughtUpAsync(cancellationToken).ConfigureAwait(false); // KvNode.Cluster.cs

        var learner = id == 0 ? null : _state.Learners.Members.FirstOrDefault(m => m.Id == id);
        if (learner is null)
        {
            throw (await MembersKnowingAsync(id, cancellationToken).ConfigureAwait(false)).Any(m => m.Id == id)
                ? new NotLearnerException(id)
                : new MemberNotFoundException(id);
        }

        var commit = _log.LastCommittedIndex;
        var progress = _learnerProgress.GetOrAdd(learner.RaftAddress, _ => new LearnerProgress());
        var sent = Interlocked.Read(ref progress.SentIndex);
        if (Volatile.Read(ref progress.Streams) == 0)
        {
            throw new LearnerNotReadyException(id, "it is not streaming the log from this leader (stopped, or not connected yet)");
        }

        if (sent < commit * LearnerReadyFraction)
        {
            throw new LearnerNotReadyException(id, $"it has received the log up to index {sent}, the leader's commit index is {commit}");
        }

        // One writer on the learner's log from now on: the stream ends (the learner's tailer finishes the batch
        // it holds, under its log's append lock) before DotNext's AppendEntries start; both write the same
        // committed entries, so a batch still in flight is harmless.
        progress.Promoting = true;
        var added = false;
        try
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, _stop.Token);
            timeout.CancelAfter(_options.OperationTimeout);
            while (Volatile.Read(ref progress.Streams) > 0)
            {
                await Task.Delay(20, timeout.Token).ConfigureAwait(false);
            }

            IPEndPoint ep;
            try
            {
                ep = await EndPoints.ResolveAsync(learner.RaftAddress, TimeSpan.FromSeconds(5), timeout.Token).ConfigureAwait(false);
            }
            catch (SocketException e)
            {
                throw new UnavailableException($"learner {id} ({learner.RaftAddress}) is not reachable: its host name does not resolve ({e.Message}); it stays a learner", inner: e);
            }

            added = await ChangeConfigurationAsync(() => _cluster.AddMemberAsync(ep, cancellationToken), $"the promotion of learner {id}", cancellationToken).ConfigureAwait(false); // a 503, not a 500

            if (!added)
            {
                throw new UnavailableException($"learner {id} could not be added to the voting configuration (unreachable, or the change did not commit); it stays a learner");
            }

            lock (_metaLock)
            {
                _memberMeta[ep] = (learner.Id, learner.GrpcAddress, learner.HttpAddress, Features);
            }

            await ProposeAsync(new KvCommand(CommandKind.Learner, NextTimestamp(), null, null, Learner: new LearnerChange(LearnerChangeKind.Promoted, learner.Id, learner.RaftAddress, learner.GrpcAddress, learner.HttpAddress)), cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            // The mark never outlives this call: not added = it stays a learner and its tailer reconnects; added but
            // the Promoted entry failed (or its outcome is unknown) = RepairPromotedLearnersAsync replicates it (it skips
            // marked learners). Once added, the progress is dropped: a later learner at this address (the node removed,
            // wiped and re-added) starts afresh instead of being refused as "being promoted" forever.
            progress.Promoting = false;
            if (added)
            {
                _learnerProgress.TryRemove(learner.RaftAddress, out _);
            }
        }
    }

    /// <summary>The leader finishes a promotion whose leader failed between DotNext's configuration change and the
    /// <see cref="LearnerChangeKind.Promoted"/> entry: a listed learner already in the configuration is promoted.</summary>
    private async Task RepairPromotedLearnersAsync()
    {
        if (!IsLeader || _state.Learners.Members.Count == 0)
        {
            return;
        }

        var voters = _cluster.Members.Select(m => m.EndPoint.ToString() ?? string.Empty).ToList();
        foreach (var l in _state.Learners.Members.Where(l => voters.Contains(l.RaftAddress, StringComparer.OrdinalIgnoreCase)))
        {
            if (_learnerProgress.TryGetValue(l.RaftAddress, out var p) && p.Promoting)
            {
                continue; // a promote in progress here replicates it itself
            }

            await PublishLearnerAsync(new LearnerChange(LearnerChangeKind.Promoted, l.Id, l.RaftAddress, l.GrpcAddress, l.HttpAddress)).ConfigureAwait(false);
        }
    }

    /// <summary>Removes learner <paramref name="id"/> from the list; false when it is no learner.</summary>
    private async Task<bool> TryRemoveLearnerAsync(long id, CancellationToken cancellationToken)
    {
        if (id == 0 || _state.Learners.Members.FirstOrDefault(m => m.Id == id) is not { } learner)
        {
            return false;
        }

        await ProposeAsync(new KvCommand(CommandKind.Learner, NextTimestamp(), null, null, Learner: new LearnerChange(LearnerChangeKind.Remove, learner.Id, learner.RaftAddress, string.Empty, string.Empty)), cancellationToken).ConfigureAwait(false);
        _learnerProgress.TryRemove(learner.RaftAddress, out _);
        return true;
    }

    /// <summary>The learners to list next to DotNext's members (not those already in its configuration: a
    /// promotion whose <see cref="LearnerChangeKind.Promoted"/> entry is not applied yet).</summary>
    private IEnumerable<MemberInfo> ListedLearners(IReadOnlyCollection<string> voterAddresses)
    {
        var leader = IsLeader;
        foreach (var l in _state.Learners.Members)
        {
            if (voterAddresses.Contains(l.RaftAddress, StringComparer.OrdinalIgnoreCase) && !IsSelfAddress(l.RaftAddress))
            {
                continue;
            }

            var local = IsSelfAddress(l.RaftAddress);
            var available = local || !leader || (_learnerProgress.TryGetValue(l.RaftAddress, out var p) && Volatile.Read(ref p.Streams) > 0);
            yield return l with { Id = local ? NodeId : l.Id, GrpcAddress = local ? _options.GrpcAdvertise : l.GrpcAddress, HttpAddress = local ? _options.HttpAdvertise : l.HttpAddress, IsLocal = local, Available = available };
        }
    }

    private bool IsSelfAddress(string raftAddress) => string.Equals(raftAddress, _options.RaftAdvertise, StringComparison.OrdinalIgnoreCase);

    /// <summary>Refuses what a learner cannot serve (writes, read-index reads): it is in no quorum.</summary>
    private void ThrowIfLearner()
    {
        if (IsLearner)
        {
            throw new LearnerNotSupportedException();
        }
    }

    /// <summary>A learner's stream as the leader sees it.</summary>
    private sealed class LearnerProgress
    {
        /// <summary>The last index handed to the stream (entries, or a snapshot's index).</summary>
        public long SentIndex;

        /// <summary>Live streams to this learner (normally 0 or 1).</summary>
        public int Streams;

        /// <summary>Set by a promote: streams end, and new ones are refused until it fails.</summary>
        public volatile bool Promoting;
    }
}
