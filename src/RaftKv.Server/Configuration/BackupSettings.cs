using RaftKv.Tiering.Backups;

namespace RaftKv.Server.Configuration;

/// <summary>
/// BACKUP_INTERVAL, BACKUP_RETENTION, BACKUP_BUCKET and BACKUP_PREFIX (docs/operations.md, "Backups"); the prefix
/// defaults to <c>{S3_PREFIX}backups/</c>.
/// The bucket and prefix also tell <c>raftkv restore --from-s3</c> where to look, with or without an interval.
/// </summary>
public sealed record BackupSettings(TimeSpan Interval, BackupRetention Retention, string Bucket, string Prefix)
{
    public static readonly BackupSettings Off = new(TimeSpan.Zero, BackupRetention.Default, "raftkv", "backups/");

    public bool Enabled => Interval > TimeSpan.Zero;

    /// <summary>Validates the four settings against the rest of <paramref name="config"/>; problems are <see cref="ConfigException"/>s.</summary>
    public static BackupSettings Parse(string interval, string retention, string bucket, string prefix, ServerConfig config)
    {
        var span = Durations.Parse(ConfigKeys.BackupInterval, interval);
        var kept = BackupRetention.Parse(retention)
            ?? throw new ConfigException($"BACKUP_RETENTION must be a count (7) or an age (72h, 30m, 2d), got '{retention}'");
        bucket = bucket.Length == 0 ? config.S3Bucket : bucket;
        prefix = prefix.Length == 0 ? config.S3Prefix + "backups/" : ConfigLoader.ObjectKeyPrefix(ConfigKeys.BackupPrefix, prefix);
        var archive = config.S3Prefix + "nodes/";
        if (bucket == config.S3Bucket && (archive.StartsWith(prefix, StringComparison.Ordinal) || prefix.StartsWith(archive, StringComparison.Ordinal)))
        {
            throw new ConfigException($"BACKUP_PREFIX '{prefix}' overlaps the archive tier's {archive} prefix in bucket {bucket}");
        }

        if (span > TimeSpan.Zero && !config.HasObjectStore)
        {
            throw new ConfigException("BACKUP_INTERVAL needs an object store (set S3_ENDPOINT)");
        }

        return new BackupSettings(span, kept, bucket, prefix);
    }
}
