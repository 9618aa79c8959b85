using RaftKv.Replication.Api;

namespace RaftKv.Replication;

/// <summary>
/// Ids of members this node could never ask, learned from the members it can. A member's id comes from its own Raft
/// metadata, which a dead member cannot serve; each node remembers what it fetched (<see cref="MemberMetaCache"/>), but a
/// node that started with an empty data directory while another member was down (a replaced machine rebuilt from its
/// peers) never fetched that member's id and listed it under id 0 — <c>etcdctl member list</c> through it showed id 0 and
/// <c>member remove &lt;id&gt;</c> answered "no member with id N". Now such a node asks the members it reaches
/// (<see cref="KvNodeOptions.MembershipPeers"/>, their own member lists: what they fetched or remember) for the ids it
/// lacks, and remembers the answer like a fetched one (fetched metadata still wins, <see cref="MetaOf"/>).
/// </summary>
/// <remarks>Concurrency: the metadata loop only; <see cref="_learnedMeta"/> is guarded by <see cref="_metaLock"/>.</remarks>
public sealed partial class KvNode
{
    /// <summary>How often at most the members are asked while an id is unknown.</summary>
    private static readonly TimeSpan UnknownIdAskInterval = TimeSpan.FromSeconds(5);

    /// <summary>Ids learned from other members, by Raft endpoint text (<see cref="_metaLock"/>).</summary>
    private readonly Dictionary<string, (long Id, string Grpc, string Http)> _learnedMeta = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>When the members were last asked (<see cref="TimeProvider.GetTimestamp"/>), or 0.</summary>
    private long _lastUnknownIdAsk;

    /// <summary>One round (metadata loop, after the fetch): asks the reachable members for the ids of the members listed
    /// under id 0, at most every <see cref="UnknownIdAskInterval"/>, and only while there is one.</summary>
    private async Task LearnUnknownIdsAsync(CancellationToken token)
    {
        if (_options.MembershipPeers is not { } peers
            || (_lastUnknownIdAsk != 0 && _options.TimeProvider.GetElapsedTime(_lastUnknownIdAsk) < UnknownIdAskInterval))
        {
            return;
        }

        if (!_cluster.Members.Any(m => m.IsRemote && MetaOf(m).Id == 0))
        {
            return; // the usual round: every voter's id is known, so no member list is built
        }

        var members = Members();
        var unknown = members.Where(m => m.Id == 0 && !m.IsLocal && m.RaftAddress.Length > 0).Select(m => m.RaftAddress).ToList();
        if (unknown.Count == 0)
        {
            return;
        }

        _lastUnknownIdAsk = _options.TimeProvider.GetTimestamp();
        foreach (var peer in members.Where(m => m.Id > 0 && !m.IsLocal && m.Available && m.GrpcAddress.Length > 0))
        {
            IReadOnlyList<MemberInfo> theirs;
            try
            {
                using var timeout = CancellationTokenSource.CreateLinkedTokenSource(token);
                timeout.CancelAfter(_options.RequestTimeout);
                theirs = await peers.MembersAsync(peer, timeout.Token).ConfigureAwait(false);
            }
            catch (Exception e) when (e is not OperationCanceledException || !token.IsCancellationRequested)
            {
                continue; // unreachable or refused right now: another member may answer
            }

            lock (_metaLock)
            {
                foreach (var address in unknown.ToList())
                {
                    if (theirs.FirstOrDefault(m => m.Id > 0 && !m.IsProvisional && SameAddress(m.RaftAddress, address)) is { } known)
                    {
                        _learnedMeta[address] = (known.Id, known.GrpcAddress, known.HttpAddress);
                        unknown.Remove(address);
                    }
                }
            }

            if (unknown.Count == 0)
            {
                break;
            }
        }

        SaveMemberMeta();
    }
}
