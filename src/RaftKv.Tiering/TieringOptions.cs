namespace RaftKv.Tiering;

/// <summary>Object store and archiving policy (S3_* and DISK_* settings).</summary>
public sealed record TieringOptions
{
    public required string Endpoint { get; init; }
    public string Bucket { get; init; } = "raftkv";
    public string Region { get; init; } = "us-east-1";
    public string AccessKey { get; init; } = string.Empty;
    public string SecretKey { get; init; } = string.Empty;

    /// <summary>Object key prefix of this node, e.g. "nodes/1/".</summary>
    public string NodePrefix { get; init; } = "nodes/1/";

    /// <summary>Tables older than this are archived (0 = never by age).</summary>
    public TimeSpan MigrationAge { get; init; }

    /// <summary>While local tables exceed this, tables are archived, deepest level first, as soon as a flush or
    /// compaction takes them over it (0 = no limit).</summary>
    public long DiskMaxBytes { get; init; }

    /// <summary>How often the archiver runs an interval pass (age-based archiving, orphan reconcile). Disk pressure
    /// (<see cref="DiskMaxBytes"/>) is checked at every change of the store's tables instead.</summary>
    public TimeSpan Interval { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>Orphan objects (uploaded but never recorded) younger than this are left alone.</summary>
    public TimeSpan OrphanGrace { get; init; } = TimeSpan.FromMinutes(10);

    public long MultipartThresholdBytes { get; init; } = 16L << 20;
    public long PartSizeBytes { get; init; } = 8L << 20;
    public int MaxRetries { get; init; } = 4;
    public TimeSpan RequestTimeout { get; init; } = TimeSpan.FromSeconds(30);
}
