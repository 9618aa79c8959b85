using Prometheus;
using RaftKv.Replication.Api;
using RaftKv.Storage;

namespace RaftKv.Server;

/// <summary>Server metrics (prometheus-net). Layer metrics (Replication, Tiering) are .NET Meters
/// exported by prometheus-net's meter adapter; engine state is sampled here before each scrape.</summary>
public static class Metrics
{
    public static readonly Counter Operations = Prometheus.Metrics.CreateCounter(
        "raftkv_operations_total", "Client operations by API, type and outcome", new CounterConfiguration { LabelNames = ["api", "op", "outcome"] });

    public static readonly Histogram Latency = Prometheus.Metrics.CreateHistogram(
        "raftkv_operation_duration_seconds", "Client operation latency", new HistogramConfiguration
        {
            LabelNames = ["api", "op"],
            Buckets = Histogram.ExponentialBuckets(0.0001, 2, 18),
        });

    private static readonly Gauge MemtableBytes = Prometheus.Metrics.CreateGauge("raftkv_memtable_bytes", "Bytes in memtables");
    private static readonly Gauge MemtableEntries = Prometheus.Metrics.CreateGauge("raftkv_memtable_entries", "Entries in memtables");
    private static readonly Gauge Tables = Prometheus.Metrics.CreateGauge("raftkv_sstables", "Live SSTables per level", new GaugeConfiguration { LabelNames = ["level"] });
    private static readonly Gauge TierBytes = Prometheus.Metrics.CreateGauge("raftkv_tier_bytes", "Bytes per tier", new GaugeConfiguration { LabelNames = ["tier"] });
    private static readonly Gauge CacheHitRatio = Prometheus.Metrics.CreateGauge("raftkv_block_cache_hit_ratio", "Block cache hit ratio");
    private static readonly Gauge Term = Prometheus.Metrics.CreateGauge("raftkv_term", "Raft term");
    private static readonly Gauge Commit = Prometheus.Metrics.CreateGauge("raftkv_commit_index", "Raft commit index");
    private static readonly Gauge Applied = Prometheus.Metrics.CreateGauge("raftkv_applied_index", "Raft applied index");
    private static readonly Gauge FollowerLag = Prometheus.Metrics.CreateGauge(
        "raftkv_follower_lag_entries", "Leader only: leader commit index minus each follower's applied index", new GaugeConfiguration { LabelNames = ["member"] });

    private static readonly Gauge IsLeader = Prometheus.Metrics.CreateGauge("raftkv_is_leader", "1 when this node is the leader");

    /// <summary>Samples node and engine state into gauges (called before every scrape).</summary>
    public static void Register(IKvNode node, Hosting.FollowerLagMonitor lagMonitor)
    {
        Prometheus.Metrics.DefaultRegistry.AddBeforeCollectCallback(() =>
        {
            foreach (var labels in FollowerLag.GetAllLabelValues().ToList())
            {
                if (!long.TryParse(labels[0], out var id) || !lagMonitor.Lags.ContainsKey(id))
                {
                    FollowerLag.RemoveLabelled(labels);
                }
            }

            foreach (var (id, lag) in lagMonitor.Lags)
            {
                FollowerLag.WithLabels(id.ToString(System.Globalization.CultureInfo.InvariantCulture)).Set(lag.Entries);
            }

            var s = node.GetStatus();
            Term.Set(s.Term);
            Commit.Set(s.CommitIndex);
            Applied.Set(s.AppliedIndex);
            IsLeader.Set(s.Role == "leader" ? 1 : 0);
            StoreStats st = node.GetStoreStats();
            MemtableBytes.Set(st.MemtableBytes);
            MemtableEntries.Set(st.MemtableEntries);
            for (var i = 0; i < st.TablesPerLevel.Count; i++)
            {
                Tables.WithLabels(i.ToString(System.Globalization.CultureInfo.InvariantCulture)).Set(st.TablesPerLevel[i]);
            }

            TierBytes.WithLabels("memory").Set(st.MemtableBytes);
            TierBytes.WithLabels("disk").Set(st.DiskBytes);
            TierBytes.WithLabels("object").Set(st.RemoteBytes);
            var lookups = st.CacheHits + st.CacheMisses;
            CacheHitRatio.Set(lookups == 0 ? 0 : (double)st.CacheHits / lookups);
        });
    }
}
