namespace RaftKv.Chaos.History;

/// <summary>The operations the workers perform on a register.</summary>
public enum OpKind
{
    Read,
    Write,
    Cas,
}

/// <summary>How an operation ended: Ok (outcome known), Fail (definitely did not take effect),
/// Unknown (timeout or ambiguous error: it may or may not have taken effect, at any time after its invocation).</summary>
public enum OpStatus
{
    Ok,
    Fail,
    Unknown,
}

/// <summary>One client operation with its invocation and return times on one monotonic clock (ticks).</summary>
/// <param name="Id">Sequence number.</param>
/// <param name="Client">Worker id.</param>
/// <param name="Key">The register.</param>
/// <param name="Kind">Read, write or compare-and-set.</param>
/// <param name="Value">Written value (Write, Cas new value).</param>
/// <param name="Expected">Cas expected value.</param>
/// <param name="Output">Read result (null = absent), or "true"/"false" for Cas.</param>
/// <param name="Invoke">Invocation time.</param>
/// <param name="Return">Return time (ignored for Unknown).</param>
/// <param name="Status">Outcome.</param>
public sealed record Operation(int Id, int Client, string Key, OpKind Kind, string? Value, string? Expected, string? Output, long Invoke, long Return, OpStatus Status)
{
    /// <summary>Checker only: an unknown-outcome operation whose <see cref="Return"/> is a proven latest
    /// linearization point (a completed read observed its value by then).</summary>
    public bool Bounded { get; init; }

    public override string ToString() => Kind switch
    {
        OpKind.Read => $"#{Id} c{Client} read({Key}) -> {Output ?? "nil"} [{Status}] @{Invoke}..{(Status == OpStatus.Unknown ? "?" : Return)}",
        OpKind.Write => $"#{Id} c{Client} write({Key}, {Value}) [{Status}] @{Invoke}..{(Status == OpStatus.Unknown ? "?" : Return)}",
        _ => $"#{Id} c{Client} cas({Key}, {Expected ?? "nil"} -> {Value}) = {Output ?? "?"} [{Status}] @{Invoke}..{(Status == OpStatus.Unknown ? "?" : Return)}",
    };
}
