using RaftKv.Replication.Api;
using NotLeaderException = RaftKv.Replication.Api.NotLeaderException;

namespace RaftKv.Replication;

/// <summary>
/// How a membership change (DotNext's <c>AddMemberAsync</c> / <c>RemoveMemberAsync</c>) that lost leadership half-way is
/// reported: a refusal the caller may simply retry only when this node appended nothing during the call; otherwise an
/// outcome the caller must check.
/// </summary>
/// <remarks>
/// DotNext's change appends an empty entry, waits until it applies, appends the new configuration and waits until that
/// applies; losing leadership at any point throws its <c>NotLeaderException</c>. Once the configuration entry is in the
/// log, the next leader may well commit it. Reporting that as "not the leader" (etcd's "no leader", which promises that
/// nothing was proposed) made a client retry with the member it now saw as leader: <c>member remove</c> of the leader,
/// retried after such an answer, removed a second member (EtcdctlRemoveLeaderTests under a loaded machine: one member
/// left listing only itself, the other frozen outside the configuration). As etcd answers a proposal whose leader
/// changed before it applied, the answer is then "outcome unknown" (<see cref="UnavailableException.OutcomeUnknown"/>;
/// etcd's "request timed out"), and the caller checks the member list before trying again.
/// <para>A change is reported done only once a majority of the new configuration knows it committed. Members use the
/// configuration they have applied (DotNext saves a configuration entry when it applies it, as etcd-raft applies a
/// conf change), and a follower learns that an entry committed only from the leader's next round — with DotNext at
/// the next heartbeat, up to half an election timeout later. A leader lost in that window left the others on the old
/// configuration: chaos membership seed 43 (2026-12-08) removed member 2 from {1, 2, 4, 5}, the harness stopped 2 as
/// the removal returned and killed the leader 5 half a second later, and 1 and 4, still counting 2 and 5 among
/// four voters, could never again elect a leader (the committed {1, 4, 5} sat unapplied in their logs). So after
/// DotNext's change this leader commits one more (empty) entry: every member that acknowledged it was sent a commit
/// index covering the change, and they are a majority of the new configuration, whose next leader then applies it.</para>
/// </remarks>
public sealed partial class KvNode
{
    /// <summary>Runs <paramref name="change"/> on this node (the leader), mapping a lost leadership as described above.</summary>
    /// <param name="change">The DotNext call.</param>
    /// <param name="what">The change, for the message ("the removal of member 3").</param>
    /// <param name="cancellationToken">The caller's token (also given to <paramref name="change"/>).</param>
    /// <param name="removesSelf">The change removes this node (the leader): it leads no configuration after it, so
    /// it commits nothing beyond and waits for the others instead (<see cref="UntilOthersTookUpOwnRemovalAsync"/>).</param>
    internal async Task<bool> ChangeConfigurationAsync(Func<Task<bool>> change, string what, CancellationToken cancellationToken, bool removesSelf = false)
    {
        var before = _log.LastIndex;
        try
        {
            if (!await change().ConfigureAwait(false))
            {
                return false;
            }

            if (removesSelf)
            {
                await UntilOthersTookUpOwnRemovalAsync(cancellationToken).ConfigureAwait(false);
            }
            else
            {
                await CommitBeyondAsync(what, cancellationToken).ConfigureAwait(false);
            }

            return true;
        }
        catch (DotNext.Net.Cluster.Consensus.Raft.NotLeaderException e)
        {
            if (_log.LastIndex > before)
            {
                // Entries appended during the call (the change's own, or other writes': it cannot tell which) may commit
                // under the next leader.
                throw new UnavailableException($"leadership moved while {what} was in flight: it may still be applied by the next leader; check the member list before retrying", outcomeUnknown: true, inner: e);
            }

            throw new NotLeaderException(GetStatus().Leader); // nothing appended: nothing to commit, retry on the new leader
        }
    }

    /// <summary>
    /// After this leader removed itself: returns once a majority of the other members answer with a leader and without
    /// this node — they applied the new configuration, so losing one more member leaves one that can win. A leader that
    /// removed itself can commit nothing more (it leads no configuration), and the others apply the change only once a
    /// leader among them commits an entry; stopping it at once and losing another member before that left the rest on
    /// the old configuration (chaos membership seed 56, 2026-12-08: {1, 3, 4, 5} → 3 removed itself and was stopped, 5
    /// killed: 1 and 4 still counted 3 and 5 among four voters). Bounded by the operation timeout: then "outcome
    /// unknown" (the removal itself has committed). Asks peers as the removed-member check does (KvNode.Removal.cs).
    /// </summary>
    private async Task UntilOthersTookUpOwnRemovalAsync(CancellationToken cancellationToken)
    {
        if (_options.MembershipPeers is not { } peers)
        {
            return; // nobody to ask (a node without the gRPC peer client)
        }

        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, _stop.Token);
        timeout.CancelAfter(_options.OperationTimeout);
        try
        {
            while (!await PeersSayRemovedAsync(peers, timeout.Token).ConfigureAwait(false))
            {
                await Task.Delay(TimeSpan.FromMilliseconds(100), _options.TimeProvider, timeout.Token).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException e) when (!cancellationToken.IsCancellationRequested)
        {
            throw new UnavailableException($"member {NodeId} removed itself, but the other members had not elected a leader that applied it in time: check the member list before stopping another member", outcomeUnknown: true, inner: e);
        }
    }

    /// <summary>Commits an empty entry after a configuration change applied here, so that a majority of the new
    /// configuration has been told the change committed (the type's remarks). Bounded by the operation timeout.</summary>
    private async Task CommitBeyondAsync(string what, CancellationToken cancellationToken)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, _stop.Token);
        timeout.CancelAfter(_options.OperationTimeout);
        try
        {
            await _cluster.ReplicateAsync(new DotNext.Net.Cluster.Consensus.Raft.EmptyLogEntry { Term = _log.Term }, timeout.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException e) when (!cancellationToken.IsCancellationRequested)
        {
            throw new UnavailableException($"{what} committed on the leader, but no majority of the new configuration acknowledged it in time: check the member list before retrying", outcomeUnknown: true, inner: e);
        }
    }
}
