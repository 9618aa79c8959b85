using Grpc.Core;
using Grpc.Core.Interceptors;
using RaftKv.Replication.Api;
using RaftKv.Server.Security;
using RaftKv.Server.Security.Auth;

namespace RaftKv.Server.Pipeline;

/// <summary>
/// gRPC authentication and authorization, between the operation interceptor (metrics, error mapping) and
/// leader forwarding, for the native and the etcd API alike: when auth is enabled it identifies the caller
/// (metadata <c>token</c>, or <c>authorization</c> as <c>Bearer t</c> or a bare token; else the TLS client
/// certificate's CN), checks the call's access (<see cref="AuthRules"/>) in <see cref="AuthGate"/>, and records
/// the <see cref="AuthPrincipal"/> for the forwarder and the streaming services (etcd Watch checks each
/// create). So a follower refuses before forwarding, and the leader checks again with the token the follower
/// minted for the user (<see cref="GrpcLeaderForwarder"/>): it never trusts a user name sent in clear.
/// A linearizable read first passes the <see cref="ReadFence"/> (its read barrier, auth on or off), so it is
/// judged on an auth state that has every change acknowledged before it arrived, as etcd judges it after its
/// read index.
/// </summary>
public sealed class GrpcAuthInterceptor(AuthGate gate, ReadFence fence) : Interceptor
{
    /// <summary>etcd clients' metadata key for the token.</summary>
    public const string TokenHeader = "token";

    /// <summary>The metadata key of a learner's credential on <c>Cluster/TailLog</c> (<see cref="AuthGate.IsLearnerToken"/>).</summary>
    public const string LearnerTokenHeader = "raftkv-learner-token";

    /// <summary>Metadata of a voting member's snapshot pull over <c>Cluster/TailLog</c>: the credential of the leader's snapshot reference (hex).</summary>
    public const string PullCredentialHeader = "raftkv-pull-credential";

    /// <summary>The metadata key marking a call made by the JSON gateway (<see cref="Etcd.Gateway.GatewayLoopback"/>):
    /// the TLS client certificate of such a call is the node's own, so it never identifies the caller. A client that
    /// sends the marker itself only gives up its certificate's identity.</summary>
    public const string GatewayHeader = "raftkv-gateway";

    public override Task<TResponse> UnaryServerHandler<TRequest, TResponse>(TRequest request, ServerCallContext context, UnaryServerMethod<TRequest, TResponse> continuation)
    {
        ArgumentNullException.ThrowIfNull(continuation);
        if (ReadFence.IsLinearizableRead(request))
        {
            return FencedAsync(request, context, continuation);
        }

        if (gate.Enabled)
        {
            Check(context, request, null); // mapped by the operation interceptor (outermost, every call kind)
        }

        return continuation(request, context); // no async frame of its own: nothing to do after the call
    }

    /// <summary>A linearizable read: the barrier, then the gate on the state it brought, then the handler (which reads
    /// without a second barrier, <see cref="ReadFence.Consistency(ServerCallContext, Replication.Api.ReadConsistency)"/>).</summary>
    private async Task<TResponse> FencedAsync<TRequest, TResponse>(TRequest request, ServerCallContext context, UnaryServerMethod<TRequest, TResponse> continuation)
        where TRequest : class
        where TResponse : class
    {
        await fence.PassAsync(context).ConfigureAwait(false);
        if (gate.Enabled)
        {
            Check(context, request, null);
        }

        return await continuation(request, context).ConfigureAwait(false);
    }

    public override async Task ServerStreamingServerHandler<TRequest, TResponse>(TRequest request, IServerStreamWriter<TResponse> responseStream, ServerCallContext context, ServerStreamingServerMethod<TRequest, TResponse> continuation)
    {
        // A learner's log stream with the cluster's learner credential, or a voting member's snapshot pull with the credential
        // of this leader's snapshot reference, needs no user (neither has one before it caught up).
        if (gate.Enabled && !(request is Protocol.V1.TailLogRequest
            && (gate.IsLearnerToken(context.RequestHeaders.GetValue(LearnerTokenHeader)) || gate.IsSnapshotPullCredential(context.RequestHeaders.GetValue(PullCredentialHeader)))))
        {
            Check(context, request, null);
        }

        await continuation(request, responseStream, context).ConfigureAwait(false);
    }

    public override async Task DuplexStreamingServerHandler<TRequest, TResponse>(IAsyncStreamReader<TRequest> requestStream, IServerStreamWriter<TResponse> responseStream, ServerCallContext context, DuplexStreamingServerMethod<TRequest, TResponse> continuation)
    {
        if (gate.Enabled)
        {
            if (typeof(TRequest) == typeof(Protocol.Etcd.WatchRequest))
            {
                // etcd 3.4 opens a watch stream for any caller and judges each create (its isWatchPermitted): a
                // caller without a user, or with a bad token, gets every watch created + canceled with etcd's
                // reason (Etcd.EtcdWatchService), not a failed stream — etcd's clients renew an expired token
                // on that reason and watch again.
                try
                {
                    Check(context, null, AuthAccess.Authenticated);
                }
                catch (AuthException e)
                {
                    context.GetHttpContext().Features.Set(new StreamAuthRefusal(e.Error));
                }
            }
            else if (typeof(TRequest) != typeof(Protocol.Etcd.LeaseKeepAliveRequest))
            {
                // Native streams: a user is needed to open the stream.
                Check(context, null, AuthAccess.Authenticated);
            }

            // etcd's LeaseKeepAlive reads no token (etcd checks none there: the lease ID is the capability), so an
            // expired token does not stop keep-alives — Patroni 3.0 does not re-authenticate on that call, and with a
            // token that expired it lost its leader lock and demoted its primary every AUTH_TOKEN_TTL (before 2026-12-07).
        }

        await continuation(requestStream, responseStream, context).ConfigureAwait(false);
    }

    public override async Task<TResponse> ClientStreamingServerHandler<TRequest, TResponse>(IAsyncStreamReader<TRequest> requestStream, ServerCallContext context, ClientStreamingServerMethod<TRequest, TResponse> continuation)
    {
        if (gate.Enabled)
        {
            Check(context, null, AuthAccess.Admin);
        }

        return await continuation(requestStream, context).ConfigureAwait(false);
    }

    /// <summary>The token a gRPC call carries (<c>token</c>, else <c>authorization</c> as <c>Bearer t</c> or a bare token).</summary>
    private static string? TokenOf(string? token, string? authorization)
    {
        if (token is { Length: > 0 })
        {
            return token;
        }

        return authorization is null ? null
            : authorization.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase) ? authorization[7..].Trim() : authorization.Trim();
    }

    /// <summary>Identifies the caller and judges its access: <paramref name="access"/>, else the access
    /// <paramref name="request"/> needs (<see cref="AuthRules.ForGrpc"/>), computed only for a caller that is not
    /// <see cref="AuthPrincipal.Unrestricted"/>. Headers are read from the HTTP request itself: gRPC's
    /// <see cref="ServerCallContext.RequestHeaders"/> would copy every header of every call into a new collection.</summary>
    private void Check(ServerCallContext context, object? request, AuthAccess? access)
    {
        var http = context.GetHttpContext();
        var headers = http.Request.Headers;
        var certificateUser = headers.ContainsKey(GatewayHeader) ? null : ClientIdentity.Of(http).CertificateUser;
        var token = TokenOf(Single(headers, TokenHeader), Single(headers, "authorization"));
        AuthPrincipal? principal;
        try
        {
            principal = gate.Identify(token, null, null, certificateUser, http.Connection.RemoteIpAddress); // for the refusal log only
        }
        catch (AuthException) when ((access ?? AuthRules.ForGrpc(request!)).Kind == AuthAccessKind.Open)
        {
            // An open call ignores a bad or expired token, as etcd does (it reads a token only where it checks one):
            // computed only on this failure path, so the usual call pays nothing for it.
            return;
        }

        if (principal is not { Unrestricted: true })
        {
            gate.Authorize(principal, access ?? AuthRules.ForGrpc(request!));
        }

        if (principal is not null)
        {
            http.Features.Set(principal);
        }
    }

    /// <summary>A header's value (the first, if sent more than once), or null.</summary>
    private static string? Single(IHeaderDictionary headers, string name)
        => headers.TryGetValue(name, out var values) && values.Count > 0 ? values[0] : null;
}
