using System.Diagnostics.Metrics;
using System.Text;
using Microsoft.Extensions.Logging.Abstractions;
using Prometheus;
using RaftKv.Server.Observability;

namespace RaftKv.Server.Tests;

/// <summary>The one exporter (docs/architecture.md, "Metrics"): names, Prometheus types, labels, and
/// label sets an observable instrument stops reporting. Each test uses meters of its own (unique
/// names) and a registry of its own.</summary>
public sealed class PrometheusMeterExporterTests
{
    [Theory]
    [InlineData("RaftKv.Replication", "raftkv_raft_log_flushes_total", true, "raftkv_raft_log_flushes_total")]
    [InlineData("RaftKv.Replication", "raftkv_term", false, "raftkv_term")]
    [InlineData("RaftKv.Replication", "raftkv_raft_log_flushes", true, null)] // a counter without _total
    [InlineData("RaftKv.Replication", "raftkv_term_total", false, null)] // _total on a gauge
    [InlineData("RaftKv.Replication", "raftkv_replication_raftkv_raft_term", false, null)] // doubled prefix
    [InlineData("RaftKv.Tiering", "tiering.migrations", true, null)] // not a raftkv_ name
    [InlineData("Microsoft.AspNetCore.Server.Kestrel", "kestrel.active_connections", false, "microsoft_aspnetcore_server_kestrel_active_connections")]
    [InlineData("Microsoft.AspNetCore.Routing", "aspnetcore.routing.match_attempts", true, "microsoft_aspnetcore_routing_match_attempts_total")]
    [InlineData("Microsoft.AspNetCore.MemoryPool", "aspnetcore.memory_pool.pooled", false, "microsoft_aspnetcore_memory_pool_pooled")]
    [InlineData("System.Runtime", "dotnet.gc.collections", true, "system_runtime_dotnet_gc_collections_total")]
    [InlineData("DotNext.Threading.AsyncLock", "suspended-callers-count", false, "dotnext_threading_asynclock_suspended_callers_count")]
    [InlineData(EtcdMeter.Name, "etcd_server_proposals_committed_total", false, "etcd_server_proposals_committed_total")] // etcd's gauge named _total
    [InlineData(EtcdMeter.Name, "grpc_server_handled_total", true, "grpc_server_handled_total")]
    [InlineData(EtcdMeter.Name, "process_resident_memory_bytes", false, "process_resident_memory_bytes")]
    [InlineData(EtcdMeter.Name, "raftkv_term", false, null)] // not one of etcd's families
    [InlineData(EtcdMeter.Name, "etcd.server.has_leader", false, null)]
    public void ExportNames(string meterName, string instrumentName, bool counter, string? expected)
    {
        using var meter = new Meter(meterName);
        Instrument instrument = counter ? meter.CreateCounter<long>(instrumentName) : meter.CreateObservableGauge(instrumentName, () => 1);
        Assert.Equal(expected, PrometheusMeterExporter.ExportName(instrument, out var problem));
        Assert.Equal(expected is null, problem is not null);
    }

    /// <summary>The runtime creates the thread-pool thread count and queue length as ObservableCounters; their values
    /// go down too, so they are exported as gauges (no <c>_total</c>), the completed work items as a counter.</summary>
    [Theory]
    [InlineData("dotnet.thread_pool.thread.count", "system_runtime_dotnet_thread_pool_thread_count")]
    [InlineData("dotnet.thread_pool.queue.length", "system_runtime_dotnet_thread_pool_queue_length")]
    [InlineData("dotnet.thread_pool.work_item.count", "system_runtime_dotnet_thread_pool_work_item_count_total")]
    public void RuntimeCountersThatGoDownAreGauges(string instrumentName, string expected)
    {
        using var meter = new Meter("System.Runtime");
        var instrument = meter.CreateObservableCounter(instrumentName, () => 1L);
        Assert.Equal(expected, PrometheusMeterExporter.ExportName(instrument, out var problem));
        Assert.Null(problem);
    }

    /// <summary>A histogram in milliseconds without bucket advice (DotNext's broadcast and response times) gets
    /// millisecond buckets, not prometheus-net's defaults for seconds (where a 12 ms sample lands in the top bucket).</summary>
    [Fact]
    public async Task MillisecondHistogramsWithoutAdviceGetMillisecondBuckets()
    {
        var id = Guid.NewGuid().ToString("N")[..8];
        var registry = Metrics.NewCustomRegistry();
        using var exporter = new PrometheusMeterExporter(registry, NullLogger.Instance);
        using var meter = new Meter("DotNext.Test" + id);
        meter.CreateHistogram<double>("broadcast-time", unit: "ms").Record(12);
        var text = await ScrapeAsync(registry);
        Assert.Contains($"dotnext_test{id}_broadcast_time_bucket{{le=\"10\"}} 0", text, StringComparison.Ordinal);
        Assert.Contains($"dotnext_test{id}_broadcast_time_bucket{{le=\"25\"}} 1", text, StringComparison.Ordinal);
        Assert.Contains($"dotnext_test{id}_broadcast_time_bucket{{le=\"10000\"}} 1", text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task InstrumentsBecomeTheirPrometheusTypesUnderTheirOwnNames()
    {
        var id = Guid.NewGuid().ToString("N")[..8];
        var registry = Metrics.NewCustomRegistry();
        using var exporter = new PrometheusMeterExporter(registry, NullLogger.Instance);
        using var meter = new Meter("RaftKv.Test" + id);
        var puts = meter.CreateCounter<long>($"raftkv_test{id}_puts_total");
        var flushes = 0L;
        meter.CreateObservableCounter($"raftkv_test{id}_flushes_total", () => flushes);
        meter.CreateObservableGauge($"raftkv_test{id}_index", () => 42L);
        var latency = meter.CreateHistogram($"raftkv_test{id}_latency_seconds", unit: "s", description: "latency", tags: null, advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = [0.5, 1] });

        puts.Add(1, new KeyValuePair<string, object?>("op", "put"));
        puts.Add(2, new KeyValuePair<string, object?>("op", "put"));
        flushes = 7;
        latency.Record(0.75);
        var text = await ScrapeAsync(registry);

        Assert.Contains($"# TYPE raftkv_test{id}_puts_total counter", text);
        Assert.Contains($"raftkv_test{id}_puts_total{{op=\"put\"}} 3", text);
        Assert.Contains($"# TYPE raftkv_test{id}_flushes_total counter", text);
        Assert.Contains($"raftkv_test{id}_flushes_total 7", text);
        Assert.Contains($"# TYPE raftkv_test{id}_index gauge", text);
        Assert.Contains($"raftkv_test{id}_index 42", text);
        Assert.Contains($"# TYPE raftkv_test{id}_latency_seconds histogram", text);
        Assert.Contains($"raftkv_test{id}_latency_seconds_bucket{{le=\"0.5\"}} 0", text);
        Assert.Contains($"raftkv_test{id}_latency_seconds_bucket{{le=\"1\"}} 1", text);
        Assert.DoesNotContain("raftkv_test" + id + "_raftkv", text);

        flushes = 9;
        Assert.Contains($"raftkv_test{id}_flushes_total 9", await ScrapeAsync(registry));
    }

    [Fact]
    public async Task LabelSetsAnObservableInstrumentNoLongerReportsAreRemoved()
    {
        var id = Guid.NewGuid().ToString("N")[..8];
        var registry = Metrics.NewCustomRegistry();
        using var exporter = new PrometheusMeterExporter(registry, NullLogger.Instance);
        using var meter = new Meter("RaftKv.Test" + id);
        var members = new List<string> { "2", "3" };
        meter.CreateObservableGauge($"raftkv_test{id}_lag_entries", () => members.Select(m => new Measurement<long>(5, new KeyValuePair<string, object?>("member", m))));

        var first = await ScrapeAsync(registry);
        Assert.Contains($"raftkv_test{id}_lag_entries{{member=\"2\"}} 5", first);
        Assert.Contains($"raftkv_test{id}_lag_entries{{member=\"3\"}} 5", first);

        members.Remove("3");
        var second = await ScrapeAsync(registry);
        Assert.Contains($"raftkv_test{id}_lag_entries{{member=\"2\"}} 5", second);
        Assert.DoesNotContain($"member=\"3\"", second);
    }

    /// <summary>Measurements of one instrument with more tag keys than the first one (DotNext's AsyncLock counter tags
    /// some locks with extra keys): an increment is summed into the series of its known keys, a value is dropped.</summary>
    [Fact]
    public async Task AnIncrementWithATagThatIsNoLabelIsSummedAndAValueIsDropped()
    {
        var id = Guid.NewGuid().ToString("N")[..8];
        var registry = Metrics.NewCustomRegistry();
        using var exporter = new PrometheusMeterExporter(registry, NullLogger.Instance);
        using var meter = new Meter("RaftKv.Test" + id);
        var waiting = meter.CreateUpDownCounter<int>($"raftkv_test{id}_waiting");
        waiting.Add(1, new KeyValuePair<string, object?>("type", "lock"));
        waiting.Add(2, new KeyValuePair<string, object?>("type", "lock"), new KeyValuePair<string, object?>("owner", "raft"));
        waiting.Add(-1, new KeyValuePair<string, object?>("type", "lock"), new KeyValuePair<string, object?>("owner", "raft"));
        waiting.Add(4);
        var level = meter.CreateGauge<long>($"raftkv_test{id}_level");
        level.Record(7, new KeyValuePair<string, object?>("type", "lock"));
        level.Record(9, new KeyValuePair<string, object?>("type", "lock"), new KeyValuePair<string, object?>("owner", "raft"));

        var text = await ScrapeAsync(registry);
        Assert.Contains($"raftkv_test{id}_waiting{{type=\"lock\"}} 2", text);
        Assert.Contains($"raftkv_test{id}_waiting{{type=\"\"}} 4", text);
        Assert.DoesNotContain("owner=", text);
        Assert.Contains($"raftkv_test{id}_level{{type=\"lock\"}} 7", text);
    }

    /// <summary>An own series with an etcd name (<c>raftkv_raft_log_fsync_duration_seconds</c> ↔ etcd's
    /// <c>etcd_disk_wal_fsync_duration_seconds</c>) is exported twice, fed by the same measurements.</summary>
    [Fact]
    public async Task AnOwnSeriesWithAnEtcdAliasFeedsBothNames()
    {
        var registry = Metrics.NewCustomRegistry();
        using var exporter = new PrometheusMeterExporter(registry, NullLogger.Instance);
        using var meter = new Meter("RaftKv.AliasTest" + Guid.NewGuid().ToString("N")[..8]);
        var fsync = meter.CreateHistogram<double>("raftkv_raft_log_fsync_duration_seconds", unit: "s");
        fsync.Record(0.003);
        fsync.Record(0.004);
        var text = await ScrapeAsync(registry);

        // A Raft log of another test in this process may record into the same series (same name): compare, do not count.
        var own = Count(text, "raftkv_raft_log_fsync_duration_seconds_count");
        Assert.True(own >= 2, text);
        Assert.Equal(own, Count(text, "etcd_disk_wal_fsync_duration_seconds_count"));
        Assert.Contains("# TYPE etcd_disk_wal_fsync_duration_seconds histogram", text);

        static long Count(string text, string sample) =>
            long.Parse(text.Split('\n').Single(l => l.StartsWith(sample + " ", StringComparison.Ordinal))[(sample.Length + 1)..], System.Globalization.CultureInfo.InvariantCulture);
    }

    [Fact]
    public async Task AnInstrumentBreakingTheNamingRulesIsNotExported()
    {
        var id = Guid.NewGuid().ToString("N")[..8];
        var registry = Metrics.NewCustomRegistry();
        using var exporter = new PrometheusMeterExporter(registry, NullLogger.Instance);
        using var meter = new Meter("RaftKv.Test" + id);
        meter.CreateCounter<long>($"raftkv_test{id}_puts").Add(1);
        Assert.DoesNotContain($"raftkv_test{id}_puts", await ScrapeAsync(registry));
    }

    /// <summary>ASP.NET Core's per-request instruments are neither enabled nor exported unless asked for
    /// (METRICS_HTTP_REQUESTS=on); a per-connection one of the same platform meter still is.</summary>
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task PerRequestPlatformInstrumentsAreExportedOnlyWhenAskedFor(bool perRequest)
    {
        var registry = Metrics.NewCustomRegistry();
        using var exporter = new PrometheusMeterExporter(registry, NullLogger.Instance, perRequest);
        using var hosting = new Meter("Microsoft.AspNetCore.Hosting");
        using var kestrel = new Meter("Microsoft.AspNetCore.Server.Kestrel");
        var duration = hosting.CreateHistogram<double>("http.server.request.duration", unit: "s");
        var queued = kestrel.CreateUpDownCounter<long>("kestrel.queued_requests");
        var connections = kestrel.CreateUpDownCounter<long>("kestrel.active_connections");
        Assert.True(PrometheusMeterExporter.IsPerRequest(duration));
        Assert.True(PrometheusMeterExporter.IsPerRequest(queued));
        Assert.False(PrometheusMeterExporter.IsPerRequest(connections));

        duration.Record(0.01, new KeyValuePair<string, object?>("http.request.method", "POST"));
        queued.Add(1);
        connections.Add(1);
        var text = await ScrapeAsync(registry);

        Assert.Contains("microsoft_aspnetcore_server_kestrel_active_connections", text);
        Assert.Equal(perRequest, text.Contains("microsoft_aspnetcore_hosting_http_server_request_duration", StringComparison.Ordinal));
        Assert.Equal(perRequest, text.Contains("microsoft_aspnetcore_server_kestrel_queued_requests", StringComparison.Ordinal));
    }

    private static async Task<string> ScrapeAsync(CollectorRegistry registry)
    {
        using var stream = new MemoryStream();
        await registry.CollectAndExportAsTextAsync(stream);
        return Encoding.UTF8.GetString(stream.ToArray());
    }
}
