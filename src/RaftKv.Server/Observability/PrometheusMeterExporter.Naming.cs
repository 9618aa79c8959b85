using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using System.Text;
using System.Text.RegularExpressions;

namespace RaftKv.Server.Observability;

/// <summary>Series names (docs/architecture.md, "Metrics").</summary>
public sealed partial class PrometheusMeterExporter
{
    /// <summary>Meters whose instruments carry their exported name: <c>RaftKv.*</c>.</summary>
    public const string OwnMeterPrefix = "RaftKv.";

    private static readonly ConcurrentDictionary<string, string> LabelNames = new(StringComparer.Ordinal);

    /// <summary>Own series also exported under etcd's name (same measurements, same buckets).</summary>
    private static readonly Dictionary<string, string> EtcdAliases = new(StringComparer.Ordinal)
    {
        ["raftkv_raft_log_fsync_duration_seconds"] = "etcd_disk_wal_fsync_duration_seconds",
        ["raftkv_commit_index"] = "etcd_server_proposals_committed_total",
        ["raftkv_applied_index"] = "etcd_server_proposals_applied_total",
        ["raftkv_is_leader"] = "etcd_server_is_leader",
        ["raftkv_raft_leader_changes_total"] = "etcd_server_leader_changes_seen_total",
        ["raftkv_raft_proposals_pending"] = "etcd_server_proposals_pending",
        ["raftkv_backend_local_bytes"] = "etcd_mvcc_db_total_size_in_bytes",
    };

    /// <summary>The etcd name an own series is exported under as well, or null.</summary>
    internal static string? EtcdAlias(string exportedName) => EtcdAliases.GetValueOrDefault(exportedName);

    /// <summary>
    /// The Prometheus name of an instrument, or null (with the reason) when it is not exported.
    /// <list type="bullet">
    /// <item><see cref="EtcdMeter"/>: the instrument's name as is; it must be one of etcd's (<c>etcd_</c>,
    /// <c>grpc_server_</c> or <c>process_</c> and <c>[a-z0-9_]+</c>). etcd's own names decide <c>_total</c> (etcd
    /// has gauges named <c>…_total</c>), so that rule does not apply.</item>
    /// <item>Other RaftKv meters: the instrument's name as is. It must match <c>raftkv_[a-z0-9_]+</c>, end in
    /// <c>_total</c> exactly when the instrument is a counter, and not repeat the <c>raftkv</c> prefix.</item>
    /// <item>Other meters (DotNext, ASP.NET Core, System.Runtime, …): <c>&lt;meter&gt;_&lt;instrument&gt;</c>,
    /// lower case, every other character → <c>_</c> (prometheus-net's convention, so these names did not
    /// change), except that when the instrument name starts with a word of the meter name the meter name is
    /// cut before that word, so nothing is said twice (<c>Microsoft.AspNetCore.Server.Kestrel</c> +
    /// <c>kestrel.active_connections</c> → <c>microsoft_aspnetcore_server_kestrel_active_connections</c>),
    /// and counters end in <c>_total</c> (other types never do).</item>
    /// </list>
    /// </summary>
    public static string? ExportName(Instrument instrument, out string? problem)
    {
        ArgumentNullException.ThrowIfNull(instrument);
        var kind = InstrumentKinds.Of(instrument);
        problem = null;
        if (kind == InstrumentKind.Unsupported)
        {
            problem = "unsupported instrument type " + instrument.GetType().Name;
            return null;
        }

        var counter = InstrumentKinds.IsCounter(kind);
        if (instrument.Meter.Name == EtcdMeter.Name)
        {
            problem = EtcdName().IsMatch(instrument.Name) ? null : "an etcd-compatible instrument name must match (etcd|grpc_server|process)_[a-z0-9_]+";
            return problem is null ? instrument.Name : null;
        }

        if (instrument.Meter.Name.StartsWith(OwnMeterPrefix, StringComparison.Ordinal))
        {
            var name = instrument.Name;
            problem = !OwnName().IsMatch(name) ? "a RaftKv instrument name must match raftkv_[a-z0-9_]+"
                : name.IndexOf("raftkv", 1, StringComparison.Ordinal) >= 0 ? "a RaftKv instrument name must not repeat the raftkv prefix"
                : counter != name.EndsWith("_total", StringComparison.Ordinal) ? "a RaftKv instrument name ends in _total exactly when it is a counter"
                : null;
            return problem is null ? name : null;
        }

        var meterWords = Words(instrument.Meter.Name);
        var instrumentWords = Words(instrument.Name);
        var cut = instrumentWords.Length == 0 ? -1 : Array.IndexOf(meterWords, instrumentWords[0]);
        var prefix = cut < 0 ? meterWords : meterWords[..cut];
        var joined = string.Join('_', prefix.Concat(instrumentWords));
        if (counter && !joined.EndsWith("_total", StringComparison.Ordinal))
        {
            joined += "_total";
        }
        else if (!counter && joined.EndsWith("_total", StringComparison.Ordinal))
        {
            joined = joined[..^"_total".Length];
        }

        return joined.Length == 0 ? null : char.IsAsciiDigit(joined[0]) ? "_" + joined : joined;
    }

    /// <summary>A tag key as a Prometheus label name (<c>http.request.method</c> → <c>http_request_method</c>).</summary>
    internal static string LabelName(string tagKey) => LabelNames.GetOrAdd(tagKey, k =>
    {
        var name = string.Join('_', Words(k));
        return name.Length == 0 || char.IsAsciiDigit(name[0]) ? "_" + name : name;
    });

    /// <summary>Lower-case words of a name: runs of ASCII letters and digits.</summary>
    private static string[] Words(string name)
    {
        var words = new List<string>();
        var word = new StringBuilder();
        foreach (var c in name)
        {
            if (char.IsAsciiLetterOrDigit(c))
            {
                word.Append(char.ToLowerInvariant(c));
            }
            else if (word.Length > 0)
            {
                words.Add(word.ToString());
                word.Clear();
            }
        }

        if (word.Length > 0)
        {
            words.Add(word.ToString());
        }

        return [.. words];
    }

    [GeneratedRegex("^raftkv_[a-z0-9_]+$")]
    private static partial Regex OwnName();

    [GeneratedRegex("^(etcd|grpc_server|process)_[a-z0-9_]+$")]
    private static partial Regex EtcdName();
}
