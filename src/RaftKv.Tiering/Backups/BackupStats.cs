namespace RaftKv.Tiering.Backups;

/// <summary>Backup state for <c>/stats</c> and the metrics.</summary>
public sealed record BackupStats
{
    public bool Enabled { get; init; }

    /// <summary>This cluster's replicated uid, which its backups are tagged with (null until it has one).</summary>
    public string? ClusterUid { get; init; }

    /// <summary>True while backups wait for the cluster uid (no backup is taken without one).</summary>
    public bool WaitingForClusterUid { get; init; }

    /// <summary>The newest complete backup of this cluster known to this node (taken here or read from the bucket).</summary>
    public BackupManifest? Newest { get; init; }

    /// <summary>Seconds since <see cref="Newest"/> was created, or null without one.</summary>
    public double? AgeSeconds { get; init; }

    /// <summary>Backups retained after the last retention pass of this node.</summary>
    public int Retained { get; init; }

    /// <summary>Backups this node took.</summary>
    public long Taken { get; init; }

    public long Failures { get; init; }

    public double? LastDurationSeconds { get; init; }

    public string? LastError { get; init; }

    public static BackupStats Disabled { get; } = new();
}
