using System.Diagnostics.Metrics;
using System.Globalization;

namespace RaftKv.Storage;

/// <summary>
/// The LSM engine's gauges (Meter <see cref="MeterName"/>), observed from <see cref="StoreStats"/> each
/// time a listener collects (for the server: each <c>GET /metrics</c>). Instrument names are the
/// exported Prometheus names (docs/architecture.md, "Metrics"); this assembly knows no exporter.
/// The owner of the process's store (the Raft node) creates one and disposes it with the store.
/// </summary>
public sealed class StorageMetrics : IDisposable
{
    public const string MeterName = "RaftKv.Storage";

    private readonly Meter _meter = new(MeterName);

    public StorageMetrics(Func<StoreStats> stats)
    {
        ArgumentNullException.ThrowIfNull(stats);
        _meter.CreateObservableGauge("raftkv_memtable_bytes", () => stats().MemtableBytes, unit: "By", description: "Bytes in memtables (active and frozen)");
        _meter.CreateObservableGauge("raftkv_memtable_entries", () => stats().MemtableEntries, description: "Entries in memtables (active and frozen)");
        _meter.CreateObservableGauge("raftkv_sstables", () => PerLevel(stats()), description: "Live SSTables per level");
        _meter.CreateObservableGauge("raftkv_tier_bytes", () => PerTier(stats()), unit: "By", description: "Bytes per tier (memory, local disk, object storage)");
        _meter.CreateObservableGauge("raftkv_block_cache_hit_ratio", () => HitRatio(stats()), description: "Block cache hits / lookups since start (0 before the first lookup)");
    }

    public void Dispose() => _meter.Dispose();

    private static IEnumerable<Measurement<int>> PerLevel(StoreStats s) =>
        s.TablesPerLevel.Select((count, level) => new Measurement<int>(count, new KeyValuePair<string, object?>("level", level.ToString(CultureInfo.InvariantCulture))));

    private static Measurement<long>[] PerTier(StoreStats s) =>
    [
        new(s.MemtableBytes, new KeyValuePair<string, object?>("tier", "memory")),
        new(s.DiskBytes, new KeyValuePair<string, object?>("tier", "disk")),
        new(s.RemoteBytes, new KeyValuePair<string, object?>("tier", "object")),
    ];

    private static double HitRatio(StoreStats s)
    {
        var lookups = s.CacheHits + s.CacheMisses;
        return lookups == 0 ? 0 : (double)s.CacheHits / lookups;
    }
}
