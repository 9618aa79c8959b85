using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Globalization;
using RaftKv.Replication.Api;

namespace RaftKv.Server.Observability;

/// <summary>
/// etcd's server, MVCC and process series on <see cref="EtcdMeter"/>, observed when a scrape comes, each from
/// the RaftKv value that means the same; series RaftKv already has under its own name (commit and applied index,
/// leader, leader changes, pending proposals, local bytes) are exported under etcd's name as aliases instead
/// (<see cref="PrometheusMeterExporter.EtcdAlias"/>) (docs/operations.md, "etcd's metric names", has the table and what is
/// not exported). Names, types and labels are etcd 3.5's, including its gauges named <c>…_total</c>
/// (<c>etcd_server_proposals_committed_total</c> is the commit index). <c>etcd_server_quota_backend_bytes</c>
/// appears only when <c>QUOTA_BACKEND_BYTES</c> is set: with no quota, etcd's "database quota low space" rule
/// (size ÷ quota) must have nothing to divide by rather than fire on +Inf.
/// </summary>
public static class EtcdMetrics
{
    /// <summary>Observes <paramref name="node"/> (once per process: the server hosts one node).</summary>
    /// <param name="node">The node.</param>
    /// <param name="memberId">This member's etcd id (hex in <c>etcd_server_id</c>, as etcd prints it).</param>
    /// <param name="serverVersion">The version the etcd Maintenance service reports.</param>
    /// <param name="clusterVersion">The cluster version /version reports.</param>
    /// <param name="quotaBytes">QUOTA_BACKEND_BYTES in force (0 = none).</param>
    public static void Register(IKvNode node, ulong memberId, string serverVersion, string clusterVersion, long quotaBytes)
    {
        ArgumentNullException.ThrowIfNull(node);
        var meter = EtcdMeter.Meter;
        var status = new StatusPerScrape(node);
        meter.CreateObservableGauge("etcd_server_has_leader", () => status.Get().LeaderId is null ? 0 : 1, description: "Whether or not a leader exists. 1 is existence, 0 is not.");
        meter.CreateObservableGauge("etcd_server_is_learner", () => status.Get().Role == "learner" ? 1 : 0, description: "Whether or not this member is a learner. 1 if is, 0 otherwise.");
        meter.CreateObservableCounter("etcd_server_proposals_failed_total", () => status.Get().ProposalsFailed, description: "The total number of failed proposals seen.");
        meter.CreateObservableGauge("etcd_server_id", () => new Measurement<int>(1, new KeyValuePair<string, object?>("server_id", memberId.ToString("x", CultureInfo.InvariantCulture))), description: "Server or member ID in hexadecimal format. 1 for 'server_id' label with current ID.");
        meter.CreateObservableGauge("etcd_server_version", () => new Measurement<int>(1, new KeyValuePair<string, object?>("server_version", serverVersion)), description: "Which version is running. 1 for 'server_version' label with current version.");
        meter.CreateObservableGauge("etcd_cluster_version", () => new Measurement<int>(1, new KeyValuePair<string, object?>("cluster_version", clusterVersion)), description: "Which version is running. 1 for 'cluster_version' label with current cluster version");
        meter.CreateObservableGauge("etcd_debugging_mvcc_current_revision", () => node.Revision, description: "The current revision of store.");
        meter.CreateObservableGauge("etcd_debugging_mvcc_compact_revision", () => node.CompactRevision, description: "The revision of the last compaction in store.");
        meter.CreateObservableGauge("etcd_mvcc_db_total_size_in_use_in_bytes", () => node.LocalBackendBytes, unit: "By", description: "Total size of the underlying database logically in use in bytes (RaftKv: the same as the total: an LSM keeps no free pages).");
        if (quotaBytes > 0)
        {
            meter.CreateObservableGauge("etcd_server_quota_backend_bytes", () => quotaBytes, unit: "By", description: "Current backend storage quota size in bytes.");
        }

        if (OperatingSystem.IsLinux())
        {
            meter.CreateObservableGauge("process_resident_memory_bytes", () => Environment.WorkingSet, unit: "By", description: "Resident memory size in bytes.");
            meter.CreateObservableGauge("process_open_fds", () => Directory.EnumerateFileSystemEntries("/proc/self/fd").Count(), description: "Number of open file descriptors.");
            meter.CreateObservableGauge("process_max_fds", MaxOpenFiles, description: "Maximum number of open file descriptors.");
        }
    }

    /// <summary>The soft "Max open files" limit from /proc/self/limits (none when unlimited or unreadable).</summary>
    private static IEnumerable<Measurement<long>> MaxOpenFiles()
    {
        foreach (var line in File.ReadLines("/proc/self/limits"))
        {
            if (line.StartsWith("Max open files", StringComparison.Ordinal))
            {
                var fields = line["Max open files".Length..].Split(' ', StringSplitOptions.RemoveEmptyEntries);
                if (fields.Length > 0 && long.TryParse(fields[0], NumberStyles.None, CultureInfo.InvariantCulture, out var soft))
                {
                    return [new Measurement<long>(soft)];
                }
            }
        }

        return [];
    }

    /// <summary>One <see cref="IKvNode.GetStatus"/> per scrape for all the gauges above (it builds the member list).
    /// Scrapes are serialized by the exporter; a reader on another thread sees a whole snapshot or an older one.</summary>
    private sealed class StatusPerScrape(IKvNode node)
    {
        private static readonly long MaxAge = Stopwatch.Frequency / 10;
        private Taken? _last;

        public NodeStatus Get()
        {
            var now = Stopwatch.GetTimestamp();
            var last = Volatile.Read(ref _last);
            if (last is null || now - last.At > MaxAge)
            {
                last = new Taken(node.GetStatus(), now);
                Volatile.Write(ref _last, last);
            }

            return last.Status;
        }

        private sealed record Taken(NodeStatus Status, long At);
    }
}
