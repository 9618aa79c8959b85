using DotNext.Net.Cluster.Consensus.Raft;
using RaftKv.Replication.Api;
using NotLeaderException = RaftKv.Replication.Api.NotLeaderException;

namespace RaftKv.Replication;

/// <summary>
/// Linearizable reads on a follower through the leader's read index (etcd's ReadIndex; Raft thesis §6.4): the follower
/// asks the leader for a read index over <see cref="KvNodeOptions.LeaderReadIndex"/> (the server's internal
/// <c>Cluster/ReadIndex</c> call), the leader answers its commit index from its valid read lease
/// (<c>KvNode.ReadLease.cs</c>: no quorum round) or after a read-index quorum round (<see cref="ServeReadIndexAsync"/>),
/// and the follower waits until it has applied that index, then (as every linearizable read,
/// <c>KvNode.Read.cs</c>) until it has applied an entry of its current term. Without the call, DotNext's
/// <c>ApplyReadBarrierAsync</c> made the leader run a replication round per follower read batch even while its lease
/// made that round unnecessary.
/// </summary>
/// <remarks>
/// <para>Why the index is safe (<see cref="ILeaderReadIndex"/> has the contract): the request leaves only after the
/// read began (<see cref="ReadIndexBatcher"/>: never an index requested earlier); the leader answers only while it
/// leads in the term the follower asked for, with a commit index read either under a valid lease — no other leader
/// can exist, so nothing was committed elsewhere — or after a quorum round that started after the request arrived; the
/// follower accepts only an answer of the term it asked for (a deposed leader of an older term still answering proves
/// nothing); and because that term is the follower's own, the current-term rule then covers a new leader whose commit
/// index still lags its predecessor's.</para>
/// <para>Fallback: no leader known, a leader whose release does not list <see cref="FeatureReadIndex"/> (rolling
/// upgrade), the call failing or refused (UNIMPLEMENTED, not the leader, another term, its deadline): the read runs
/// DotNext's barrier, as before. Only with <see cref="KvNodeOptions.ReadLease"/>: with READ_LEASE=false a follower's
/// reads run DotNext's barrier exactly as before.</para>
/// </remarks>
public sealed partial class KvNode
{
    /// <summary>The feature a member lists when it serves <see cref="ServeReadIndexAsync"/> (<c>Cluster/ReadIndex</c>).</summary>
    internal const string FeatureReadIndex = "read-index";

    /// <summary>Single-flight batching of this follower's read-index requests (null: no <see cref="KvNodeOptions.LeaderReadIndex"/>
    /// or READ_LEASE=false).</summary>
    private readonly ReadIndexBatcher? _readIndexBatcher;

    private long _followerReadIndexReads;
    private long _followerReadIndexFallbacks;
    private long _readIndexServed;

    /// <summary>Linearizable reads this follower served with a read index from the leader (<c>Cluster/ReadIndex</c>).</summary>
    public long FollowerReadIndexReads => Interlocked.Read(ref _followerReadIndexReads);

    /// <summary>Read-index requests this follower sent to the leader (one per batch of concurrent reads).</summary>
    public long FollowerReadIndexRounds => _readIndexBatcher?.Rounds ?? 0;

    /// <summary>Linearizable reads on this follower whose read-index request failed or was refused (they ran DotNext's barrier).</summary>
    public long FollowerReadIndexFallbacks => Interlocked.Read(ref _followerReadIndexFallbacks);

    /// <summary>Read-index requests this node answered as leader.</summary>
    public long ReadIndexServed => Interlocked.Read(ref _readIndexServed);

    private long _readIndexNudges;

    /// <summary>Read indexes served above the asking follower's commit index, each of which started a replication round
    /// (<see cref="NudgeReplication"/>; tests).</summary>
    internal long ReadIndexNudges => Interlocked.Read(ref _readIndexNudges);

    public async Task<LeaderReadIndex> ServeReadIndexAsync(long term, long followerCommitIndex, CancellationToken cancellationToken = default)
    {
        var leadership = _cluster.LeadershipToken;
        if (!IsLeader || _log.Term != term)
        {
            throw new NotLeaderException(GetStatus().Leader);
        }

        if (!TryLeaseReadIndex(out var index))
        {
            // No valid lease: a read-index round started now (it also grants a lease for the next requests).
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, _stop.Token);
            timeout.CancelAfter(_options.OperationTimeout);
            try
            {
                await StrongBarrierAsync(timeout.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                throw new UnavailableException("no quorum confirmed the read index within the deadline");
            }
            catch (Exception e) when (e is QuorumUnreachableException or DotNext.Net.Cluster.MemberUnavailableException or InvalidOperationException)
            {
                throw new UnavailableException("read index unavailable: " + e.Message, inner: e);
            }

            index = _log.LastCommittedIndex;
        }

        // Leadership of this very term must still hold after the index was read (a round that DotNext completed
        // after this node stepped down was not this leader's proof).
        if (leadership.IsCancellationRequested || _log.Term != term || !IsLeader)
        {
            throw new NotLeaderException(GetStatus().Leader);
        }

        Interlocked.Increment(ref _readIndexServed);
        if (index > followerCommitIndex)
        {
            Interlocked.Increment(ref _readIndexNudges);
            NudgeReplication();
        }

        return new LeaderReadIndex(term, index);
    }

    /// <summary>On a follower: the read index from the leader (batched), or null when the read must run DotNext's
    /// barrier instead (see the type's remarks). Throws only for <paramref name="token"/>.</summary>
    private async ValueTask<long?> TryFollowerReadIndexAsync(CancellationToken token)
    {
        if (_readIndexBatcher is null || !LeaderServesReadIndex())
        {
            return null;
        }

        try
        {
            var answer = await _readIndexBatcher.NextAsync(token).ConfigureAwait(false);
            Interlocked.Increment(ref _followerReadIndexReads);
            return answer.Index;
        }
        catch (Exception e) when (e is not OperationCanceledException || !token.IsCancellationRequested)
        {
            Interlocked.Increment(ref _followerReadIndexFallbacks);
            return null;
        }
    }

    /// <summary>A remote leader is known and its release serves the read index.</summary>
    private bool LeaderServesReadIndex()
        => _cluster.Leader is { IsRemote: true } leader && MetaOf(leader) is { Id: > 0, Grpc.Length: > 0 } meta
            && meta.Features.Split(',').Contains(FeatureReadIndex, StringComparer.Ordinal);

    /// <summary>One request of <see cref="_readIndexBatcher"/>: to the leader known now, for this node's term now; an
    /// answer of another term is refused. Bounded by the upper election timeout: a leader that does not answer by then
    /// (paused, cut off) is being replaced, and the reads fall back to DotNext's barrier, which waits for the next one.</summary>
    private async Task<LeaderReadIndex> FetchReadIndexAsync(CancellationToken stop)
    {
        var term = _log.Term;
        if (_cluster.Leader is not { IsRemote: true } leader || MetaOf(leader) is not { Id: > 0 } meta)
        {
            throw new UnavailableException("no leader to ask for a read index");
        }

        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(stop);
        timeout.CancelAfter(_options.ElectionTimeoutUpper);
        var member = new MemberInfo(meta.Id, leader.EndPoint.ToString() ?? string.Empty, meta.Grpc, meta.Http, true, false, true);
        var answer = await _options.LeaderReadIndex!.ReadIndexAsync(member, term, _log.LastCommittedIndex, timeout.Token).ConfigureAwait(false);
        if (answer.Term != term)
        {
            throw new UnavailableException($"the leader answered a read index of term {answer.Term}, not {term}");
        }

        return answer;
    }
}
