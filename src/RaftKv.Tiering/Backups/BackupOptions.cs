namespace RaftKv.Tiering.Backups;

/// <summary>Continuous backups (BACKUP_* settings, docs/operations.md "Backups").</summary>
public sealed record BackupOptions
{
    /// <summary>A backup is taken when the newest one is older than this.</summary>
    public required TimeSpan Interval { get; init; }

    public BackupRetention Retention { get; init; } = BackupRetention.Default;

    public BackupLayout Layout { get; init; } = new("backups/");

    /// <summary>Unreferenced objects younger than this are left alone (uploads in flight).</summary>
    public TimeSpan Grace { get; init; } = TimeSpan.FromMinutes(10);

    /// <summary>A pending marker older than this belongs to a backup that will never finish; it is deleted.</summary>
    public TimeSpan PendingExpiry { get; init; } = TimeSpan.FromHours(24);

    /// <summary>How often the scheduler looks (at most; less when <see cref="Interval"/> is shorter).</summary>
    public TimeSpan Tick { get; init; } = TimeSpan.FromSeconds(30);
}
