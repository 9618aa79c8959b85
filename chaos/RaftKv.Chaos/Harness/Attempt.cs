namespace RaftKv.Chaos.Harness;

/// <summary>What kind of request a worker sent (compare-and-set counts as a write).</summary>
public enum AttemptKind
{
    Write,
    LinearizableRead,
    SerializableRead,
}

/// <summary>
/// One worker request and the node it was sent to, kept beside the checked history (which does not
/// say where an operation went, and leaves serializable reads out: they may be stale by contract).
/// </summary>
/// <see cref="Error"/>: the gRPC status code of a failed request (for the window summaries: a node not serving yet
/// answers <c>Unavailable</c> at once, a request stuck behind a cut ends in <c>DeadlineExceeded</c>).
public sealed record Attempt(int Node, AttemptKind Kind, long Invoke, long Return, bool Ok, string? Error = null);
