namespace RaftKv.Replication.Log;

/// <summary>
/// One Raft log entry as <see cref="RaftLogStore"/> keeps it: what is persisted plus, in memory only,
/// the proposer's context (the <c>ApplyResult</c> holder a local apply completes).
/// </summary>
/// <remarks>
/// <see cref="Payload"/> is owned by the record (a private copy, never a network or pooled buffer).
/// It is <c>null</c> once the payload was evicted from memory; <see cref="RaftLogStore"/> then reads
/// it back from <see cref="Segment"/> at <see cref="PayloadOffset"/>.
/// </remarks>
internal sealed class LogRecord
{
    public required long Index { get; init; }

    public required long Term { get; init; }

    public required long TimestampTicks { get; init; }

    public int? CommandId { get; init; }

    public bool IsConfiguration { get; init; }

    /// <summary>Payload length in bytes (known even when <see cref="Payload"/> was evicted).</summary>
    public required int Length { get; init; }

    /// <summary>The payload, or null when evicted (then read from the segment file).</summary>
    public byte[]? Payload { get; set; }

    /// <summary>Not persisted: handed to the state machine on the proposer only.</summary>
    public object? Context { get; set; }

    /// <summary>Segment file holding the record once written; null until then. Set by the flusher.</summary>
    public string? Segment { get; set; }

    /// <summary>Offset of the payload in <see cref="Segment"/>. Set by the flusher.</summary>
    public long PayloadOffset { get; set; }
}
