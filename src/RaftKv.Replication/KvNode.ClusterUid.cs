using System.Security.Cryptography;
using Microsoft.Extensions.Logging;
using RaftKv.Replication.Commands;

namespace RaftKv.Replication;

/// <summary>
/// The replicated cluster uid, the leader's side (docs/architecture.md, "Cluster uid"): a leader whose state has no
/// uid proposes a random one (<see cref="RandomNumberGenerator"/>, 128 bits) once every voting member lists the
/// <see cref="FeatureClusterUid"/> feature (an older release refuses the unknown kind and stops, so it is never
/// proposed to one). Checked on every metadata round (<c>KvNode.Background.cs</c>), so a new leader, a restored
/// cluster or a cluster finishing a rolling upgrade gets one; the apply keeps the first one committed.
/// </summary>
public sealed partial class KvNode
{
    /// <summary>The feature a member lists in <see cref="MetaFeatures"/> when it applies <see cref="CommandKind.ClusterUid"/>.</summary>
    internal const string FeatureClusterUid = "cluster-uid";

    private int _clusterUidWaitLogged;
    private long _clusterUidWaitSince;

    /// <summary>The replicated cluster uid (32 lowercase hex digits), or null until the cluster has one. Read-only: the
    /// leader proposes it; backups are tagged with it.</summary>
    public string? ClusterUid => _state.ClusterUid is { } uid ? Convert.ToHexStringLower(uid.Span) : null;

    /// <summary>Leader only, metadata loop: proposes a uid while the state has none and every member supports it.</summary>
    private async Task EnsureClusterUidAsync(CancellationToken token)
    {
        if (!IsLeader || IsLearner || _state.ClusterUid is not null)
        {
            return;
        }

        if (!EveryMemberSupports(FeatureClusterUid))
        {
            // Logged once, and only after a while: right after an election the members' metadata may not be fetched yet.
            var now = Environment.TickCount64;
            if (Interlocked.CompareExchange(ref _clusterUidWaitSince, now, 0) is var since and not 0 && now - since > 10_000
                && Interlocked.Exchange(ref _clusterUidWaitLogged, 1) == 0)
            {
                LogClusterUidWaiting(_logger);
            }

            return;
        }

        var uid = RandomNumberGenerator.GetBytes(CommandCodec.ClusterUidLength);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(token);
        timeout.CancelAfter(_options.OperationTimeout);
        await ProposeAsync(new KvCommand(CommandKind.ClusterUid, NextTimestamp(), null, null, ClusterUid: uid), timeout.Token).ConfigureAwait(false);
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "No cluster uid yet, and not every member supports one (a rolling upgrade in progress?); backups wait until every member is upgraded")]
    private static partial void LogClusterUidWaiting(ILogger logger);
}
