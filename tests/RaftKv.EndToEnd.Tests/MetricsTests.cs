using System.Net;
using System.Text;
using System.Text.RegularExpressions;
using Google.Protobuf;
using Grpc.Net.Client;
using RaftKv.Protocol.V1;

namespace RaftKv.EndToEnd.Tests;

/// <summary>
/// <c>GET /metrics</c> of a real node (docs/architecture.md, "Metrics"): every series has one clean name —
/// one <c># TYPE</c> line, no doubled prefix (the meter adapter's <c>raftkv_replication_raftkv_raft_*</c>),
/// <c>_total</c> exactly on counters — the documented series are there, and their values move with
/// operations.
/// </summary>
public sealed partial class MetricsTests
{
    /// <summary>Series a single node exports once it has served a put and a gRPC get (docs/operations.md,
    /// "Observability"). <c>raftkv_follower_lag_entries</c> (leader of a cluster: ClusterProcessTests) and
    /// <c>raftkv_tiering_*</c> (with an object store: TieredClusterTests) are checked where they exist.</summary>
    private static readonly Dictionary<string, string> Expected = new(StringComparer.Ordinal)
    {
        ["raftkv_operations_total"] = "counter",
        ["raftkv_operation_duration_seconds"] = "histogram",
        ["raftkv_term"] = "gauge",
        ["raftkv_commit_index"] = "gauge",
        ["raftkv_applied_index"] = "gauge",
        ["raftkv_is_leader"] = "gauge",
        ["raftkv_memtable_bytes"] = "gauge",
        ["raftkv_memtable_entries"] = "gauge",
        ["raftkv_sstables"] = "gauge",
        ["raftkv_tier_bytes"] = "gauge",
        ["raftkv_block_cache_hit_ratio"] = "gauge",
        ["raftkv_block_cache_hits_total"] = "counter",
        ["raftkv_block_cache_misses_total"] = "counter",
        ["raftkv_block_cache_evictions_total"] = "counter",
        ["raftkv_block_cache_promotions_total"] = "counter",
        ["raftkv_block_cache_bytes"] = "gauge",
        ["raftkv_block_cache_capacity_bytes"] = "gauge",
        ["raftkv_object_read_requests_total"] = "counter",
        ["raftkv_object_read_bytes_total"] = "counter",
        ["raftkv_flush_written_bytes_total"] = "counter",
        ["raftkv_compaction_read_bytes_total"] = "counter",
        ["raftkv_compaction_written_bytes_total"] = "counter",
        ["raftkv_corruption_alarm"] = "gauge",
        ["raftkv_corruption_checks_total"] = "counter",
        ["raftkv_nospace_alarm"] = "gauge",
        ["raftkv_space_problem"] = "gauge",
        ["raftkv_backend_local_bytes"] = "gauge",
        ["raftkv_quota_backend_bytes"] = "gauge",
        ["raftkv_raft_durable_index"] = "gauge",
        ["raftkv_raft_leader_id"] = "gauge",
        ["raftkv_raft_proposals_total"] = "counter",
        ["raftkv_raft_log_flushes_total"] = "counter",
        ["raftkv_raft_slow_member_rounds_total"] = "counter",
        ["raftkv_raft_idle_ticks_total"] = "counter",
        ["raftkv_raft_follower_fsync_waits_total"] = "counter",
        ["raftkv_raft_snapshots_taken_total"] = "counter",
        ["raftkv_raft_snapshots_installed_total"] = "counter",
        ["raftkv_raft_value_compare_conflicts_total"] = "counter",
        ["raftkv_read_lease_reads_total"] = "counter",
        ["raftkv_read_quorum_rounds_total"] = "counter",
        ["raftkv_raft_leader_changes_total"] = "counter",
        ["raftkv_raft_proposals_pending"] = "gauge",
        ["raftkv_raft_log_fsync_duration_seconds"] = "histogram",
        ["etcd_server_has_leader"] = "gauge",
        ["etcd_server_leader_changes_seen_total"] = "counter",
        ["etcd_server_proposals_committed_total"] = "gauge",
        ["etcd_server_proposals_failed_total"] = "counter",
        ["etcd_disk_wal_fsync_duration_seconds"] = "histogram",
        ["etcd_mvcc_db_total_size_in_bytes"] = "gauge",
        ["grpc_server_started_total"] = "counter",
        ["grpc_server_handled_total"] = "counter",
        ["grpc_server_handling_seconds"] = "histogram",
        ["process_resident_memory_bytes"] = "gauge",
        ["raftkv_read_follower_index_reads_total"] = "counter",
        ["raftkv_read_follower_index_rounds_total"] = "counter",
        ["raftkv_read_follower_index_fallbacks_total"] = "counter",
        ["raftkv_read_index_served_total"] = "counter",
    };

    [Fact]
    public async Task EverySeriesHasOneCleanNameAndTheExpectedOnesArePresent()
    {
        var node = SharedNode.Get();
        await PutAsync(node, "metrics-probe");
        await GrpcGetAsync(node, "metrics-probe");
        var m = await ScrapeAsync(node);

        var problems = new List<string>();
        var twice = m.Types.GroupBy(t => t.Name, StringComparer.Ordinal).Where(g => g.Count() > 1).Select(g => g.Key).ToList();
        Report(problems, "series with more than one # TYPE line", twice);

        var types = m.Types.GroupBy(t => t.Name, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.First().Type, StringComparer.Ordinal);
        Report(problems, "expected series missing or of another type", Expected.Where(e => !types.TryGetValue(e.Key, out var t) || t != e.Value).Select(e => $"{e.Key} ({e.Value})"));
        Report(problems, "names with a doubled prefix", m.Types.Select(t => t.Name).Where(IsDoubled));
        Report(problems, "a counter must end in _total and only a counter may", m.Types.Where(t => t.Name.EndsWith("_total", StringComparison.Ordinal) != (t.Type == "counter") && !EtcdGaugesNamedTotal.Contains(t.Name)).Select(t => $"{t.Name} ({t.Type})"));

        // Every sample belongs to a family declared once (histograms add _bucket/_sum/_count).
        Report(problems, "samples without a # TYPE line", m.Samples.Select(s => s.Name).Distinct().Where(n => !types.ContainsKey(n) && !types.ContainsKey(HistogramFamily().Replace(n, string.Empty))));
        Assert.True(problems.Count == 0, string.Join("\n", problems) + "\n\n" + m.Text);
    }

    /// <summary>ASP.NET Core's per-request instruments are not measured by default (METRICS_HTTP_REQUESTS=off,
    /// docs/operations.md): after HTTP and gRPC requests, none of their series is there, while a
    /// per-connection one of the same platform is.</summary>
    /// <summary>Only GET and HEAD: PUT and DELETE answered 200 with the metrics (acceptance probe); now 405 JSON as every route.</summary>
    [Fact]
    public async Task MetricsAnswersGetAndHeadOnly()
    {
        var node = SharedNode.Get();
        using (var head = await node.Http.SendAsync(new HttpRequestMessage(HttpMethod.Head, node.Url + "/metrics")))
        {
            Assert.Equal(System.Net.HttpStatusCode.OK, head.StatusCode);
        }

        foreach (var method in new[] { HttpMethod.Put, HttpMethod.Delete, HttpMethod.Post })
        {
            using var r = await node.Http.SendAsync(new HttpRequestMessage(method, node.Url + "/metrics"));
            Assert.Equal(System.Net.HttpStatusCode.MethodNotAllowed, r.StatusCode);
            Assert.Contains("method_not_allowed", await r.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task PerRequestPlatformSeriesAreOffByDefault()
    {
        var node = SharedNode.Get();
        await PutAsync(node, "metrics-per-request");
        await GrpcGetAsync(node, "metrics-per-request");
        var m = await ScrapeAsync(node);
        var names = m.Types.Select(t => t.Name).ToHashSet(StringComparer.Ordinal);
        Assert.Contains("microsoft_aspnetcore_server_kestrel_active_connections", names);
        Assert.DoesNotContain("microsoft_aspnetcore_hosting_http_server_request_duration", names);
        Assert.DoesNotContain("microsoft_aspnetcore_hosting_http_server_active_requests", names);
        Assert.DoesNotContain("microsoft_aspnetcore_server_kestrel_queued_requests", names);
        Assert.DoesNotContain("microsoft_aspnetcore_routing_match_attempts_total", names);
    }

    [Fact]
    public async Task ValuesMoveWithOperations()
    {
        var node = SharedNode.Get();
        await PutAsync(node, "metrics-warmup"); // creates the labelled series the assertions compare
        await GrpcGetAsync(node, "metrics-warmup");
        var before = await ScrapeAsync(node);

        await PutAsync(node, "metrics-move");
        await GrpcGetAsync(node, "metrics-move");
        var after = await ScrapeAsync(node);

        AssertGrew(before, after, "raftkv_operations_total", "api=http", "op=put", "outcome=ok");
        AssertGrew(before, after, "raftkv_operations_total", "api=grpc", "op=get", "outcome=ok");
        AssertGrew(before, after, "raftkv_operation_duration_seconds_count", "api=http", "op=put");
        AssertGrew(before, after, "raftkv_operation_duration_seconds_count", "api=grpc", "op=get");
        AssertGrew(before, after, "raftkv_raft_proposals_total", "outcome=ok");
        AssertGrew(before, after, "raftkv_raft_log_flushes_total");
        AssertGrew(before, after, "raftkv_applied_index");
        AssertGrew(before, after, "raftkv_commit_index");
        Assert.Equal(1, after.Value("raftkv_is_leader"));
        Assert.NotNull(after.Value("raftkv_term")); // a single node may lead in term 0
        Assert.True(after.Value("raftkv_raft_leader_id") >= 1, "raftkv_raft_leader_id");
        Assert.True(after.Value("raftkv_raft_durable_index") <= after.Value("raftkv_applied_index"), "durable index beyond applied index");
        Assert.NotNull(after.Value("raftkv_tier_bytes", "tier=memory"));
        Assert.NotNull(after.Value("raftkv_sstables", "level=0"));
    }

    /// <summary>A name repeats a segment run (<c>raftkv_replication_raftkv_raft_…</c>,
    /// <c>…_kestrel_kestrel_…</c>) or mentions raftkv anywhere but at its start.</summary>
    internal static bool IsDoubled(string name) =>
        RepeatedSegment().IsMatch(name) || name.IndexOf("raftkv", 1, StringComparison.Ordinal) >= 0;

    internal static async Task<PrometheusText> ScrapeAsync(SharedNode node) =>
        PrometheusText.Parse(await node.Http.GetStringAsync(node.Url + "/metrics"));

    private static void Report(List<string> problems, string what, IEnumerable<string> names)
    {
        var list = names.ToList();
        if (list.Count > 0)
        {
            problems.Add(what + ": " + string.Join(", ", list));
        }
    }

    private static void AssertGrew(PrometheusText before, PrometheusText after, string name, params string[] labels)
    {
        var was = before.Value(name, labels);
        var now = after.Value(name, labels);
        var what = $"{name}{{{string.Join(",", labels)}}}";
        Assert.True(was is not null, what + " missing before\n" + before.Text);
        Assert.True(now is not null, what + " missing after\n" + after.Text);
        Assert.True(now > was, $"{what} did not grow: {was} → {now}");
    }

    private static async Task PutAsync(SharedNode node, string key)
    {
        using var put = await node.Http.PutAsync(node.Url + "/kv/" + key, new StringContent("{\"value\":\"m\"}", Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.OK, put.StatusCode);
    }

    private static async Task GrpcGetAsync(SharedNode node, string key)
    {
        using var channel = GrpcChannel.ForAddress("http://" + node.Grpc);
        await new KV.KVClient(channel).GetAsync(new GetRequest { Key = ByteString.CopyFromUtf8(key) });
    }

    [GeneratedRegex("(?:^|_)([a-z0-9]+(?:_[a-z0-9]+)*)_\\1(?:_|$)")]
    private static partial Regex RepeatedSegment();

    [GeneratedRegex("_(bucket|sum|count)$")]
    private static partial Regex HistogramFamily();
}
