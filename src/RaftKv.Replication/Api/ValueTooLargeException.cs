namespace RaftKv.Replication.Api;

/// <summary>A key or value exceeds the configured limit (HTTP 413, gRPC INVALID_ARGUMENT).</summary>
public sealed class ValueTooLargeException(string message) : ArgumentException(message);
