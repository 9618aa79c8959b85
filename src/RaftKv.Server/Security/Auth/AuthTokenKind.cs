namespace RaftKv.Server.Security.Auth;

/// <summary>The tokens Authenticate hands out (AUTH_TOKEN, etcd's <c>--auth-token</c>).</summary>
public enum AuthTokenKind
{
    /// <summary>JWTs signed with the cluster's replicated key (<see cref="AuthTokens"/>): valid on every node.</summary>
    Jwt,

    /// <summary>etcd's simple tokens (<see cref="SimpleTokens"/>): opaque, held by the issuing node only.</summary>
    Simple,
}
