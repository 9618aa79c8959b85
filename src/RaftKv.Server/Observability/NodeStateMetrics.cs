using Prometheus;
using RaftKv.Replication.Api;
using RaftKv.Server.Hosting;
using RaftKv.Storage;

namespace RaftKv.Server.Observability;

/// <summary>
/// Node and engine state sampled into gauges before every scrape: the node's Raft position
/// (<c>raftkv_term</c>, <c>raftkv_commit_index</c>, <c>raftkv_applied_index</c>, <c>raftkv_is_leader</c> —
/// exported only here, not by the RaftKv.Replication meter), the leader's view of follower lag, and
/// the LSM's <see cref="StoreStats"/>. Mechanism and names: docs/architecture.md, "Metrics".
/// </summary>
public static class NodeStateMetrics
{
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
    public static void Register(IKvNode node, FollowerLagMonitor lagMonitor)
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
