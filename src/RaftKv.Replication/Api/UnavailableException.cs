namespace RaftKv.Replication.Api;

/// <summary>No quorum or no leader within the deadline; the server maps it to 503 / UNAVAILABLE.
/// For writes, the outcome may be unknown (<see cref="OutcomeUnknown"/>): the entry may still commit.</summary>
public sealed class UnavailableException : Exception
{
    public UnavailableException(string message, bool outcomeUnknown = false, Exception? inner = null)
        : base(message, inner)
        => OutcomeUnknown = outcomeUnknown;

    public bool OutcomeUnknown { get; }
}
