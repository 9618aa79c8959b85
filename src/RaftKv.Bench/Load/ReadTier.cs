namespace RaftKv.Bench.Load;

/// <summary>Where a get was answered from, as the server reports it (RaftKv's native API says so per key;
/// etcd's API does not: <see cref="Unknown"/>).</summary>
public enum ReadTier
{
    /// <summary>The target does not report tiers (etcd's API).</summary>
    Unknown = 0,

    /// <summary>Memtable (RaftKv <c>TIER_MEMORY</c>).</summary>
    Memory = 1,

    /// <summary>A local SSTable (RaftKv <c>TIER_DISK</c>).</summary>
    Disk = 2,

    /// <summary>An archived SSTable: a ranged GET from S3, or a block of it cached locally (RaftKv <c>TIER_OBJECT</c>).</summary>
    Object = 3,

    /// <summary>The key does not exist.</summary>
    NotFound = 4,
}
