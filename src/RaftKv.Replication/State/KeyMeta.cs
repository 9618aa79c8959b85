namespace RaftKv.Replication.State;

/// <summary>A live key's MVCC metadata (<see cref="MvccLayout"/> "m/" record).</summary>
internal readonly record struct KeyMeta(long Create, long Mod, long Version, long Lease, long ExpiresAtUnixMs);
