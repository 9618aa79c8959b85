using Grpc.Core;

namespace RaftKv.Server.Pipeline;

/// <summary>
/// A streaming call's context whose <see cref="ServerCallContext.CancellationToken"/> also fires when the server
/// stops (the host's <c>ApplicationStopping</c>), so that a watch, a lease keep-alive, a learner's tail or a snapshot
/// download ends when the node shuts down. Without it Kestrel's graceful stop waited for every open stream until
/// the shutdown timeout (20 s), and the node was then stopped with an already-cancelled token (an acceptance probe:
/// SIGTERM with an open <c>etcdctl watch</c> stalled 20 s and ended in exit 134). Everything else is the call's own
/// context; <c>GetHttpContext()</c> works on this one through <see cref="ServerCallContext.UserState"/>'s
/// <c>__HttpContext</c> entry, the hook Grpc.AspNetCore documents for replaced contexts.
/// </summary>
/// <remarks>Owned by <see cref="GrpcInterceptorChain"/>, one per streaming call, disposed when the call's handler ends.</remarks>
internal sealed class StoppableCallContext : ServerCallContext, IDisposable
{
    /// <summary>The <c>UserState</c> key Grpc.AspNetCore's <c>GetHttpContext()</c> falls back to.</summary>
    private const string HttpContextKey = "__HttpContext";

    private readonly ServerCallContext _inner;
    private readonly CancellationTokenSource _linked;

    /// <summary>Wraps <paramref name="inner"/>, whose token is linked to <paramref name="stopping"/> (the host's stop)
    /// and <paramref name="leaderLost"/> (<see cref="RequireLeader.LostToken"/> for a call that requires a leader,
    /// <c>default</c> otherwise).</summary>
    public StoppableCallContext(ServerCallContext inner, CancellationToken stopping, CancellationToken leaderLost = default)
    {
        _inner = inner;
        _linked = CancellationTokenSource.CreateLinkedTokenSource(inner.CancellationToken, stopping, leaderLost);
        Stopping = stopping;
        LeaderLost = leaderLost;
        var http = inner.GetHttpContext();
        inner.UserState[HttpContextKey] = http;
    }

    /// <summary>The server's stop token this call's token is linked to.</summary>
    public CancellationToken Stopping { get; }

    /// <summary>True when the server's stop, not the client or the call's deadline, ended the call.</summary>
    public bool EndedByStop => Stopping.IsCancellationRequested && !_inner.CancellationToken.IsCancellationRequested;

    /// <summary>The token that ends a call requiring a leader once this member has lost it (or <c>default</c>).</summary>
    public CancellationToken LeaderLost { get; }

    /// <summary>True when the loss of the leader (not the client, the deadline or the server's stop) ended the call.</summary>
    public bool EndedByLeaderLoss => LeaderLost.IsCancellationRequested && !EndedByStop && !_inner.CancellationToken.IsCancellationRequested;

    protected override string MethodCore => _inner.Method;

    protected override string HostCore => _inner.Host;

    protected override string PeerCore => _inner.Peer;

    protected override DateTime DeadlineCore => _inner.Deadline;

    protected override Metadata RequestHeadersCore => _inner.RequestHeaders;

    protected override CancellationToken CancellationTokenCore => _linked.Token;

    protected override Metadata ResponseTrailersCore => _inner.ResponseTrailers;

    protected override Status StatusCore
    {
        get => _inner.Status;
        set => _inner.Status = value;
    }

    protected override WriteOptions? WriteOptionsCore
    {
        get => _inner.WriteOptions;
        set => _inner.WriteOptions = value;
    }

    protected override AuthContext AuthContextCore => _inner.AuthContext;

    protected override IDictionary<object, object> UserStateCore => _inner.UserState;

    public void Dispose() => _linked.Dispose();

    protected override ContextPropagationToken CreatePropagationTokenCore(ContextPropagationOptions? options) => _inner.CreatePropagationToken(options);

    protected override Task WriteResponseHeadersAsyncCore(Metadata responseHeaders) => _inner.WriteResponseHeadersAsync(responseHeaders);
}
