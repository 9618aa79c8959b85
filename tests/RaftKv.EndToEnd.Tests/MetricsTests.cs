using System.Net;
using System.Text;
using System.Text.RegularExpressions;
using Google.Protobuf;
using Grpc.Net.Client;
using RaftKv.Protocol.V1;

namespace RaftKv.EndToEnd.Tests;

/// <summary>/metrics is the one route for every series: each series has one name (one # TYPE line), the
/// documented series are there, and the dropped duplicates of the node's Raft position are gone.</summary>
[Collection("processes")]
public sealed partial class MetricsTests
{
    /// <summary>docs/operations.md, "Observability", and docs/architecture.md, "Metrics".</summary>
    private static readonly string[] Documented =
    [
        "raftkv_operations_total", "raftkv_operation_duration_seconds", "raftkv_term", "raftkv_commit_index",
        "raftkv_applied_index", "raftkv_is_leader", "raftkv_memtable_bytes", "raftkv_memtable_entries", "raftkv_sstables",
        "raftkv_tier_bytes", "raftkv_block_cache_hit_ratio", "raftkv_follower_lag_entries",
        "raftkv_replication_raftkv_raft_durable_index", "raftkv_replication_raftkv_raft_log_flushes",
        "raftkv_replication_raftkv_raft_follower_fsync_waits", "raftkv_replication_raftkv_raft_value_compare_conflicts",
        "raftkv_replication_raftkv_raft_proposals",
    ];

    /// <summary>Were exported twice: by the RaftKv.Replication meter and by the server under the documented names.</summary>
    private static readonly string[] Dropped =
    [
        "raftkv_replication_raftkv_raft_term", "raftkv_replication_raftkv_raft_commit_index",
        "raftkv_replication_raftkv_raft_applied_index", "raftkv_replication_raftkv_raft_is_leader",
    ];

    [Fact]
    public async Task EverySeriesHasOneNameAndTheDocumentedOnesArePresent()
    {
        var node = SharedNode.Get();
        using (var put = await node.Http.PutAsync(node.Url + "/kv/metrics-probe", new StringContent("{\"value\":\"m\"}", Encoding.UTF8, "application/json")))
        {
            Assert.Equal(HttpStatusCode.OK, put.StatusCode);
        }

        using (var channel = GrpcChannel.ForAddress("http://" + node.Grpc))
        {
            await new KV.KVClient(channel).GetAsync(new GetRequest { Key = ByteString.CopyFromUtf8("metrics-probe") });
        }

        // Meter instruments reach the registry through the adapter's listener; wait for them with a deadline.
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        string text;
        List<string> types;
        while (true)
        {
            text = await node.Http.GetStringAsync(node.Url + "/metrics");
            types = TypeLine().Matches(text).Select(m => m.Groups[1].Value).ToList();
            if (Documented.All(types.Contains) || DateTime.UtcNow > deadline)
            {
                break;
            }

            await Task.Delay(Poll.Interval);
        }

        var twice = types.GroupBy(t => t, StringComparer.Ordinal).Where(g => g.Count() > 1).Select(g => g.Key).ToList();
        Assert.True(twice.Count == 0, "series with more than one # TYPE line: " + string.Join(", ", twice));
        var missing = Documented.Where(d => !types.Contains(d)).ToList();
        Assert.True(missing.Count == 0, "documented series missing: " + string.Join(", ", missing) + "\n" + text);
        foreach (var dropped in Dropped)
        {
            Assert.DoesNotContain(dropped, types);
        }

        Assert.Matches("raftkv_operations_total\\{api=\"http\",op=\"put\",outcome=\"ok\"\\} [1-9]", text);
        Assert.Matches("raftkv_operations_total\\{api=\"grpc\",op=\"get\",outcome=\"ok\"\\} [1-9]", text);
    }

    [GeneratedRegex("^# TYPE ([a-zA-Z_:][a-zA-Z0-9_:]*) ", RegexOptions.Multiline)]
    private static partial Regex TypeLine();
}
