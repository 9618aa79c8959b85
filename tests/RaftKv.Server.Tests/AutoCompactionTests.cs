using RaftKv.Server.Configuration;
using RaftKv.Server.Hosting;

namespace RaftKv.Server.Tests;

/// <summary>AUTO_COMPACTION_MODE / AUTO_COMPACTION_RETENTION: parsing as etcd reads the flags, and the decisions of
/// etcd 3.4's periodic and revision compactors (driven with an explicit clock).</summary>
public sealed class AutoCompactionTests
{
    private static readonly DateTimeOffset T0 = new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);

    [Theory]
    [InlineData("periodic", "0", AutoCompactionMode.Off, 0, 0)]
    [InlineData("periodic", "", AutoCompactionMode.Off, 0, 0)]
    [InlineData("periodic", "1h", AutoCompactionMode.Periodic, 3600, 0)]
    [InlineData("periodic", "1", AutoCompactionMode.Periodic, 3600, 0)] // etcd: a bare number is hours
    [InlineData("periodic", "0.5", AutoCompactionMode.Periodic, 1800, 0)]
    [InlineData("periodic", "1h30m", AutoCompactionMode.Periodic, 5400, 0)]
    [InlineData("periodic", "90s", AutoCompactionMode.Periodic, 90, 0)]
    [InlineData("revision", "1000", AutoCompactionMode.Revision, 0, 1000)]
    [InlineData("revision", "0", AutoCompactionMode.Off, 0, 0)]
    public void ParsesEtcdsSpellings(string mode, string retention, AutoCompactionMode expected, int seconds, long revisions)
    {
        var a = AutoCompaction.Parse(mode, retention);
        Assert.Equal(expected, a.Mode);
        Assert.Equal(TimeSpan.FromSeconds(seconds), a.Retention);
        Assert.Equal(revisions, a.RetainRevisions);
    }

    [Theory]
    [InlineData("hourly", "1h")]
    [InlineData("periodic", "1 hour")]
    [InlineData("periodic", "-1h")]
    [InlineData("revision", "1h")]
    [InlineData("revision", "-5")]
    public void RefusesWhatEtcdRefuses(string mode, string retention)
        => Assert.Throws<ConfigException>(() => AutoCompaction.Parse(mode, retention));

    [Fact]
    public void TheDefaultIsOff()
    {
        var config = ConfigLoader.Load([], new Dictionary<string, string?>());
        Assert.Equal(AutoCompactionMode.Off, config.AutoCompaction.Mode);
        var on = ConfigLoader.Load(["--auto-compaction-mode", "revision", "--auto-compaction-retention", "50"], new Dictionary<string, string?>());
        Assert.Equal(new AutoCompaction(AutoCompactionMode.Revision, TimeSpan.Zero, 50), on.AutoCompaction);
    }

    [Fact]
    public void PeriodicKeepsTheRetentionWindowAndCompactsOncePerPeriod()
    {
        var policy = new AutoCompactionPolicy(AutoCompaction.Parse("periodic", "10m"));
        Assert.Equal(TimeSpan.FromMinutes(1), policy.Interval); // a tenth of min(retention, 1h)
        long? last = null;
        var compactions = new List<(int Minute, long Revision)>();
        for (var minute = 0; minute <= 30; minute++)
        {
            var revision = 100 + (minute * 10); // 10 revisions a minute
            if (policy.Tick(T0.AddMinutes(minute), revision, last ?? 0) is { } target)
            {
                compactions.Add((minute, target));
                last = target;
            }
        }

        // Nothing in the first 10 minutes; then every 10 minutes, to the revision of 10 minutes before.
        Assert.Equal([(10, 100L), (20, 200L), (30, 300L)], compactions);
    }

    [Fact]
    public void PeriodicWithAnHourOrMoreCompactsHourly()
    {
        var policy = new AutoCompactionPolicy(AutoCompaction.Parse("periodic", "3h"));
        Assert.Equal(TimeSpan.FromMinutes(6), policy.Interval);
        var compactions = new List<(int Minute, long Revision)>();
        long compacted = 0;
        for (var minute = 0; minute <= 306; minute += 6)
        {
            if (policy.Tick(T0.AddMinutes(minute), minute, compacted) is { } target)
            {
                compactions.Add((minute, target));
                compacted = target;
            }
        }

        // From 3 h on (the sample of minute 0 is revision 0: nothing to compact yet), then hourly.
        Assert.Equal([(186, 6L), (246, 66L), (306, 126L)], compactions);
    }

    [Fact]
    public void PeriodicDoesNotCompactAnIdleStoreAgain()
    {
        var policy = new AutoCompactionPolicy(AutoCompaction.Parse("periodic", "1m"));
        Assert.Null(policy.Tick(T0, 50, 0));
        Assert.Equal(50, policy.Tick(T0.AddMinutes(1), 50, 0));
        for (var i = 2; i < 10; i++)
        {
            Assert.Null(policy.Tick(T0.AddMinutes(i), 50, 50)); // no new revision: nothing to compact
        }
    }

    [Fact]
    public void RevisionKeepsTheLastNRevisions()
    {
        var policy = new AutoCompactionPolicy(AutoCompaction.Parse("revision", "1000"));
        Assert.Equal(TimeSpan.FromMinutes(5), policy.Interval); // etcd's revision compactor period
        Assert.Null(policy.Tick(T0, 900, 0));
        Assert.Equal(500, policy.Tick(T0.AddMinutes(5), 1500, 0));
        Assert.Null(policy.Tick(T0.AddMinutes(10), 1500, 500));
        Assert.Equal(2000, policy.Tick(T0.AddMinutes(15), 3000, 500));
    }
}
