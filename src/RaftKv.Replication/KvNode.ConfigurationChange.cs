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
/// </remarks>
public sealed partial class KvNode
{
    /// <summary>Runs <paramref name="change"/> on this node (the leader), mapping a lost leadership as described above.</summary>
    /// <param name="change">The DotNext call.</param>
    /// <param name="what">The change, for the message ("the removal of member 3").</param>
    internal async Task<bool> ChangeConfigurationAsync(Func<Task<bool>> change, string what)
    {
        var before = _log.LastIndex;
        try
        {
            return await change().ConfigureAwait(false);
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
}
