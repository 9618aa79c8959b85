namespace RaftKv.Bench.Load;

/// <summary>Reads served from one tier in a run: how many, and their latency percentiles (ms).</summary>
public sealed record TierLatency(long Requests, double P50, double P99);
