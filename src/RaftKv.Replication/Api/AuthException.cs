namespace RaftKv.Replication.Api;

/// <summary>An auth refusal with its <see cref="AuthError"/> code. The message never contains a password
/// or a token.</summary>
public sealed class AuthException(AuthError error, string message) : Exception(message)
{
    public AuthError Error { get; } = error;
}
