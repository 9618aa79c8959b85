using RaftKv.EndToEnd.Tests.Etcd;

namespace RaftKv.EndToEnd.Tests;

/// <summary>
/// etcd's own series names (docs/operations.md, "etcd's metric names"): what etcd's alerting rules and
/// dashboards read, served on the HTTP port and, as etcd serves them, on the client (gRPC) port.
/// </summary>
public sealed partial class MetricsTests
{
    /// <summary>etcd's gauges that carry a <c>_total</c> suffix (etcd's names, kept as they are).</summary>
    internal static readonly HashSet<string> EtcdGaugesNamedTotal = new(StringComparer.Ordinal)
    {
        "etcd_server_proposals_committed_total",
        "etcd_server_proposals_applied_total",
    };

    [Fact]
    public async Task EtcdsSeriesAreExportedUnderEtcdsNames()
    {
        var node = SharedNode.Get();
        (await Etcdctl.RunAsync(node.Grpc, "put", "metrics/etcd", "v")).Ok();
        var before = PrometheusText.Parse(await node.Http.GetStringAsync("http://" + node.Grpc + "/metrics"));
        (await Etcdctl.RunAsync(node.Grpc, "put", "metrics/etcd", "w")).Ok();
        var empty = await Etcdctl.RunAsync(node.Grpc, "put", string.Empty, "x"); // etcd: "key is not provided" (InvalidArgument)
        Assert.True(empty.Code != 0 && empty.Err.Contains("key is not provided", StringComparison.Ordinal), empty.Err);
        var after = PrometheusText.Parse(await node.Http.GetStringAsync("http://" + node.Grpc + "/metrics"));

        Assert.Equal(1, after.Value("etcd_server_has_leader"));
        Assert.Equal(1, after.Value("etcd_server_is_leader"));
        Assert.Equal(0, after.Value("etcd_server_is_learner"));
        Assert.True(after.Value("etcd_server_leader_changes_seen_total") >= 1, "etcd_server_leader_changes_seen_total");
        Assert.Equal(1, after.Value("etcd_server_id", "server_id=1"));
        Assert.Equal(0, after.Value("etcd_server_proposals_pending"));
        Assert.NotNull(after.Value("etcd_server_proposals_failed_total"));
        Assert.NotNull(after.Value("etcd_server_version", "server_version=3.5.0"));
        Assert.NotNull(after.Value("etcd_cluster_version", "cluster_version=3.5.0"));
        Assert.True(after.Value("etcd_mvcc_db_total_size_in_bytes") > 0, "etcd_mvcc_db_total_size_in_bytes");
        Assert.True(after.Value("process_resident_memory_bytes") > 1 << 20, "process_resident_memory_bytes");
        Assert.True(after.Value("process_open_fds") > 0, "process_open_fds");
        Assert.Equal(8L << 30, after.Value("etcd_server_quota_backend_bytes")); // the default quota (QUOTA_BACKEND_BYTES=0)

        AssertGrew(before, after, "etcd_server_proposals_committed_total");
        AssertGrew(before, after, "etcd_server_proposals_applied_total");
        AssertGrew(before, after, "etcd_debugging_mvcc_current_revision");
        AssertGrew(before, after, "etcd_disk_wal_fsync_duration_seconds_count");
        AssertGrew(before, after, "grpc_server_started_total", "grpc_type=unary", "grpc_service=etcdserverpb.KV", "grpc_method=Put");
        AssertGrew(before, after, "grpc_server_handled_total", "grpc_type=unary", "grpc_service=etcdserverpb.KV", "grpc_method=Put", "grpc_code=OK");
        AssertGrew(before, after, "grpc_server_handling_seconds_count", "grpc_type=unary", "grpc_service=etcdserverpb.KV", "grpc_method=Put");
        Assert.True(after.Value("grpc_server_handled_total", "grpc_type=unary", "grpc_service=etcdserverpb.KV", "grpc_method=Put", "grpc_code=InvalidArgument") >= 1, "the refused put is counted with its code\n" + after.Text);
        Assert.Equal(after.Value("raftkv_raft_log_fsync_duration_seconds_count"), after.Value("etcd_disk_wal_fsync_duration_seconds_count"));
    }
}
