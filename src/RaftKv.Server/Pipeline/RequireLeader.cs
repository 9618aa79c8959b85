using Grpc.Core;
using RaftKv.Replication.Api;
using RaftKv.Server.Configuration;

namespace RaftKv.Server.Pipeline;

/// <summary>
/// etcd's "require leader" (clientv3's <c>WithRequireLeader</c>: metadata <c>hasleader: true</c>; the Kubernetes API
/// server watches with it, and etcdctl's watch): a call that carries it is refused with UNAVAILABLE "etcdserver: no leader"
/// while this member knows no leader, and a stream that carries it (a watch, a keep-alive) is ended with that status
/// once this member has had no leader for <see cref="MaxNoLeaderChecks"/> checks an election timeout apart — as etcd's
/// <c>monitorLeader</c>. Without it a watch on a member cut off from the quorum stalls silently (nothing new is applied
/// there), and the client never moves to a member that has a leader.
/// </summary>
/// <remarks>Concurrency: <see cref="LostToken"/> is read by calls on any thread and replaced by the timer's callback
/// under <see cref="_lock"/>; the callbacks of the one timer do not overlap in practice (they are cheap), and the
/// counter tolerates it if they do.</remarks>
public sealed class RequireLeader : IDisposable
{
    /// <summary>etcd's metadata key and value (<c>rpctypes.MetadataRequireLeaderKey</c>, <c>MetadataHasLeader</c>).</summary>
    public const string Header = "hasleader";

    /// <summary>Checks without a leader before the streams that require one are ended (etcd's <c>maxNoLeaderCnt</c>):
    /// ending and reopening streams costs more than refusing new calls, so a short election does not end them.</summary>
    public const int MaxNoLeaderChecks = 3;

    private readonly IKvNode _node;
    private readonly ITimer _timer;
    private readonly Lock _lock = new();
    private CancellationTokenSource _lost = new();
    private int _noLeaderChecks;

    public RequireLeader(IKvNode node, ServerConfig config, TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(config);
        ArgumentNullException.ThrowIfNull(time);
        _node = node;
        _timer = time.CreateTimer(_ => Check(), null, config.ElectionTimeout, config.ElectionTimeout);
    }

    /// <summary>True when this member knows a leader now.</summary>
    public bool HasLeader => _node.LeaderId is not null;

    /// <summary>Cancelled when this member has had no leader for <see cref="MaxNoLeaderChecks"/> checks in a row; a call
    /// started later gets the next one.</summary>
    public CancellationToken LostToken
    {
        get
        {
            lock (_lock)
            {
                return _lost.Token;
            }
        }
    }

    /// <summary>True when the call asks for a leader (<c>hasleader: true</c>).</summary>
    public static bool Requested(ServerCallContext context)
        => context.GetHttpContext().Request.Headers.TryGetValue(Header, out var value) && value == "true";

    public void Dispose() => _timer.Dispose();

    private void Check()
    {
        if (HasLeader)
        {
            _noLeaderChecks = 0;
            return;
        }

        if (++_noLeaderChecks < MaxNoLeaderChecks)
        {
            return;
        }

        CancellationTokenSource lost;
        lock (_lock)
        {
            lost = _lost;
            _lost = new CancellationTokenSource();
        }

        lost.Cancel(); // not disposed: calls may still link to its token
    }
}
