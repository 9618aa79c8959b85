namespace RaftKv.Server.Etcd.Concurrency;

/// <summary>A refusal of the Lock or Election service, classified by <see cref="Error"/> (never by its text).</summary>
public sealed class ConcurrencyException(ConcurrencyError error) : Exception(TextOf(error))
{
    public ConcurrencyError Error { get; } = error;

    /// <summary>etcd's text for the error (what etcd's clients see as the status message).</summary>
    public static string TextOf(ConcurrencyError error) => error switch
    {
        ConcurrencyError.NotLeader => "election: not leader",
        ConcurrencyError.NoLeader => "election: no leader",
        ConcurrencyError.MissingLeaderKey => "\"leader\" field must be provided",
        ConcurrencyError.SessionExpired => "session expired",
        _ => error.ToString(),
    };
}
