namespace RaftKv.Server.Security.Auth;

/// <summary>Auth settings (AUTH_* keys, docs/operations.md).</summary>
/// <param name="TokenTtl">Lifetime of an issued token (AUTH_TOKEN_TTL, etcd's 300 s); of a simple token, since its last use.</param>
/// <param name="OpenMetrics">/metrics readable without credentials (AUTH_METRICS=open) or root only (root).</param>
/// <param name="MaxFailuresPerUser">Failed Authenticate calls per user within <paramref name="FailureWindow"/> before refusals.</param>
/// <param name="MaxFailuresPerAddress">Failed Authenticate calls per client address within <paramref name="FailureWindow"/>.</param>
/// <param name="FailureWindow">The rate limiter's sliding window.</param>
public sealed record AuthOptions(TimeSpan TokenTtl, bool OpenMetrics, int MaxFailuresPerUser, int MaxFailuresPerAddress, TimeSpan FailureWindow)
{
    /// <summary>The tokens Authenticate hands out (AUTH_TOKEN, etcd's --auth-token).</summary>
    public AuthTokenKind TokenKind { get; init; } = AuthTokenKind.Jwt;

    /// <summary>LEARNER_TOKEN: the cluster's learner credential (empty = none). A secret: never logged nor echoed.</summary>
    public string LearnerToken { get; init; } = string.Empty;

    /// <summary>Never prints <see cref="LearnerToken"/> (a record's generated ToString would).</summary>
    public override string ToString() => $"AuthOptions {{ TokenKind = {TokenKind}, TokenTtl = {TokenTtl}, OpenMetrics = {OpenMetrics}, LearnerToken = {(LearnerToken.Length > 0 ? "(set)" : "(none)")} }}";

    public static readonly AuthOptions Default = new(TimeSpan.FromSeconds(300), true, 5, 20, TimeSpan.FromMinutes(1));
}
