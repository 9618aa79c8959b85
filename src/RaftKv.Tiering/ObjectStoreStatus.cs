namespace RaftKv.Tiering;

/// <summary>
/// What the node's last calls to its object store said (<see cref="S3ObjectStore.Status"/>), for <c>/health</c>,
/// <c>/stats</c> and the <c>raftkv_object_store_reachable</c> gauge.
/// </summary>
/// <param name="Reachable">Whether the last call reached the store; null before the first call ends.</param>
/// <param name="LastError">The last transport failure's message (kept after the store answers again), or null.</param>
/// <param name="LastErrorAt">When it happened, or null.</param>
/// <param name="LastSuccessAt">When a call last succeeded, or null.</param>
public sealed record ObjectStoreStatus(bool? Reachable, string? LastError, DateTimeOffset? LastErrorAt, DateTimeOffset? LastSuccessAt);
