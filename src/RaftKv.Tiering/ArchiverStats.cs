namespace RaftKv.Tiering;

/// <summary>Archiver counters for /stats.</summary>
public sealed record ArchiverStats
{
    public long MigrationsCompleted { get; init; }
    public long BytesUploaded { get; init; }
    public long BytesFetched { get; init; }
    public long Errors { get; init; }
    public long RemoteTables { get; init; }
    public long RemoteBytes { get; init; }
    public string? LastError { get; init; }

    public static ArchiverStats Disabled { get; } = new();
}
