using RaftKv.Server.Configuration;

namespace RaftKv.Server.Tests;

/// <summary>BACKUP_INTERVAL, BACKUP_RETENTION, BACKUP_BUCKET and BACKUP_PREFIX as the server reads them.</summary>
public sealed class BackupSettingsTests
{
    private static readonly Dictionary<string, string?> S3 = new() { ["S3_ENDPOINT"] = "http://127.0.0.1:9000", ["S3_BUCKET"] = "tier" };

    [Fact]
    public void BackupsAreOffByDefaultAndDefaultToTheTieringBucket()
    {
        var c = ConfigLoader.Load([], S3);
        Assert.False(c.Backup.Enabled);
        Assert.Equal("tier", c.Backup.Bucket);
        Assert.Equal("backups/", c.Backup.Prefix);
        Assert.Equal(7, c.Backup.Retention.Count);
    }

    [Theory]
    [InlineData("1h", 3600)]
    [InlineData("30m", 1800)]
    [InlineData("90s", 90)]
    [InlineData("120", 120)]
    [InlineData("1d", 86400)]
    public void IntervalIsADurationOrSeconds(string text, int seconds)
    {
        var c = ConfigLoader.Load(["--backup-interval", text, "--backup-retention", "72h", "--backup-bucket", "dr", "--backup-prefix", "raftkv-backups"], S3);
        Assert.True(c.Backup.Enabled);
        Assert.Equal(TimeSpan.FromSeconds(seconds), c.Backup.Interval);
        Assert.Equal(TimeSpan.FromHours(72), c.Backup.Retention.MaxAge);
        Assert.Equal("dr", c.Backup.Bucket);
        Assert.Equal("raftkv-backups/", c.Backup.Prefix);
    }

    [Theory]
    [InlineData(new[] { "--backup-interval", "soon" }, "BACKUP_INTERVAL")]
    [InlineData(new[] { "--backup-retention", "0" }, "BACKUP_RETENTION")]
    [InlineData(new[] { "--backup-prefix", "nodes/" }, "BACKUP_PREFIX")]
    [InlineData(new[] { "--backup-prefix", "/abs" }, "BACKUP_PREFIX")]
    public void BadSettingsAreNamed(string[] args, string key)
    {
        var e = Assert.Throws<ConfigException>(() => ConfigLoader.Load(args, S3));
        Assert.Contains(key, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void S3PrefixHoldsTheArchiveTierAndTheDefaultBackupPrefix()
    {
        var c = ConfigLoader.Load(["--s3-prefix", "team/cluster-a"], S3);
        Assert.Equal("team/cluster-a/", c.S3Prefix);
        Assert.Equal("team/cluster-a/backups/", c.Backup.Prefix);
        Assert.Equal("team/cluster-a/nodes/2/0123456789abcdef/", RaftKv.Server.Hosting.NodeLifetime.ArchivePrefix(c with { NodeId = 2 }, "0123456789abcdef"));
        Assert.Equal("dr/", ConfigLoader.Load(["--s3-prefix", "a/", "--backup-prefix", "dr"], S3).Backup.Prefix); // an explicit BACKUP_PREFIX is taken as given
        Assert.Equal(string.Empty, ConfigLoader.Load([], S3).S3Prefix);
    }

    [Theory]
    [InlineData("/abs")]
    [InlineData("a//b")]
    [InlineData("a/../b")]
    [InlineData("./a")]
    [InlineData("/")]
    [InlineData("a\nb")]
    public void BadS3PrefixesAreNamed(string prefix)
    {
        var e = Assert.Throws<ConfigException>(() => ConfigLoader.Load(["--s3-prefix", prefix], S3));
        Assert.Contains("S3_PREFIX", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ABackupPrefixInsideTheArchiveTierIsRefused()
    {
        var e = Assert.Throws<ConfigException>(() => ConfigLoader.Load(["--s3-prefix", "prod", "--backup-prefix", "prod/nodes/x"], S3));
        Assert.Contains("BACKUP_PREFIX", e.Message, StringComparison.Ordinal);
        Assert.Equal("prod/nodes-backups/", ConfigLoader.Load(["--s3-prefix", "prod", "--backup-prefix", "prod/nodes-backups"], S3).Backup.Prefix);
    }

    [Fact]
    public void AnIntervalNeedsAnObjectStore()
    {
        var e = Assert.Throws<ConfigException>(() => ConfigLoader.Load(["--backup-interval", "1h"], new Dictionary<string, string?>()));
        Assert.Contains("S3_ENDPOINT", e.Message, StringComparison.Ordinal);
    }
}
