using Grpc.Core;
using RaftKv.Replication.Api;
using V3 = RaftKv.Protocol.Etcd;

namespace RaftKv.Server.Etcd;

/// <summary>
/// etcdserverpb.Watch: one <see cref="EtcdWatchSession"/> per bidirectional stream (many watchers per
/// stream; progress_notify every WATCH_PROGRESS_NOTIFY_INTERVAL). Events come from <see cref="IKvNode.WatchRevisionsAsync"/> — the history, then live — so a
/// watcher from any revision ≥ the compacted one sees every event in revision order. Not wrapped by
/// the unary interceptor: the session answers its own errors inside the stream as etcd does
/// (created/canceled responses); a malformed request message ends the call with etcd's INTERNAL "grpc: error unmarshalling request".
/// </summary>
public sealed class EtcdWatchService(IKvNode node, EtcdIdentity identity, Security.Auth.AuthGate gate, Configuration.ServerConfig config, ILogger<EtcdWatchService> log) : V3.Watch.WatchBase
{
    public override async Task Watch(IAsyncStreamReader<V3.WatchRequest> requestStream, IServerStreamWriter<V3.WatchResponse> responseStream, ServerCallContext context)
    {
        // Auth on: the stream's user (identified by the pipeline when the stream opened) needs read on each watched
        // range; a stream whose caller could not be identified is open all the same, and each create refused.
        var http = context.GetHttpContext();
        var principal = Security.Auth.AuthPrincipal.Of(http);
        var refusal = Security.Auth.StreamAuthRefusal.Of(http);
        await using var session = new EtcdWatchSession(node, identity, responseStream, EtcdWatchOptions.Default with { ProgressNotifyInterval = config.WatchProgressNotifyInterval }, log, context.CancellationToken)
        {
            Permit = gate.Enabled ? c => Refusal(principal, refusal, c) : null,
        };
        await session.RunAsync(requestStream).ConfigureAwait(false);
    }

    /// <summary>Null when the caller may watch <paramref name="c"/>'s range, else etcd's cancel reason.</summary>
    private string? Refusal(Security.Auth.AuthPrincipal? principal, Security.Auth.StreamAuthRefusal? refusal, V3.WatchCreateRequest c)
    {
        if (refusal is not null)
        {
            return EtcdWatchSession.AuthCancelReason(refusal.Error);
        }

        try
        {
            gate.Authorize(principal, Security.Auth.AuthRules.ForWatch(c));
            return null;
        }
        catch (AuthException e)
        {
            return EtcdWatchSession.AuthCancelReason(e.Error);
        }
    }
}
