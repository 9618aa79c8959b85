using RaftKv.Server.Dashboard;
using RaftKv.Server.Observability;

namespace RaftKv.Server.Tests;

/// <summary>The dashboard's per-second load samples (GET /stats/load), fed by the real instruments.</summary>
public sealed class LoadSamplerTests
{
    [Fact]
    public void Operations_are_counted_per_second_with_errors_and_percentiles()
    {
        var clock = new ManualClock(DateTimeOffset.FromUnixTimeSeconds(1_000_000));
        using var sampler = new LoadSampler(clock);
        var api = "test-" + Guid.NewGuid().ToString("N")[..8]; // other tests may record operations concurrently

        for (var i = 1; i <= 100; i++)
        {
            OperationMetrics.RecordDuration(api, "put", TimeSpan.FromMilliseconds(i)); // 1 ms … 100 ms
            OperationMetrics.Count(api, "put", i <= 3 ? "error" : "ok");
        }

        clock.Advance(TimeSpan.FromSeconds(2));
        OperationMetrics.RecordDuration(api, "get", TimeSpan.FromMilliseconds(5));
        OperationMetrics.Count(api, "get", "ok");
        clock.Advance(TimeSpan.FromSeconds(1));

        var snapshot = sampler.Snapshot(5);
        Assert.Equal(1_000_002, snapshot.To); // the current second (1 000 003) is not complete
        var put = Assert.Single(snapshot.Operations, o => o.Api == api && o.Op == "put");
        Assert.Equal(5, put.Points.Count);
        var busy = Assert.Single(put.Points, p => p.Count > 0);
        Assert.Equal(1_000_000, busy.T);
        Assert.Equal(100, busy.Count);
        Assert.Equal(3, busy.Errors);
        AssertNear(50, busy.P50Ms!.Value);
        AssertNear(90, busy.P90Ms!.Value);
        AssertNear(99, busy.P99Ms!.Value);
        Assert.All(put.Points.Where(p => p != busy), p => Assert.Null(p.P99Ms));
        var get = Assert.Single(snapshot.Operations, o => o.Api == api && o.Op == "get");
        Assert.Equal(1, Assert.Single(get.Points, p => p.Count > 0).Count);
    }

    [Fact]
    public void A_second_older_than_the_window_is_forgotten()
    {
        var clock = new ManualClock(DateTimeOffset.FromUnixTimeSeconds(2_000_000));
        using var sampler = new LoadSampler(clock);
        var api = "test-" + Guid.NewGuid().ToString("N")[..8];
        OperationMetrics.RecordDuration(api, "put", TimeSpan.FromMilliseconds(1));
        clock.Advance(TimeSpan.FromSeconds(LoadSampler.WindowSeconds)); // same ring slot, a full window later
        OperationMetrics.RecordDuration(api, "put", TimeSpan.FromMilliseconds(1));
        clock.Advance(TimeSpan.FromSeconds(1));

        var put = Assert.Single(sampler.Snapshot(LoadSampler.WindowSeconds).Operations, o => o.Api == api);
        Assert.Equal(1, put.Points.Sum(p => p.Count));
    }

    /// <summary>Bucketed percentiles are the bucket's upper bound: at most 19 % above the true value.</summary>
    private static void AssertNear(double expected, double actual)
        => Assert.InRange(actual, expected, expected * 1.19);

    private sealed class ManualClock(DateTimeOffset now) : TimeProvider
    {
        private DateTimeOffset _now = now;

        public override DateTimeOffset GetUtcNow() => _now;

        public void Advance(TimeSpan by) => _now += by;
    }
}
