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
        _meter.CreateObservableCounter("raftkv_block_cache_hits_total", () => stats().CacheHits, description: "Block cache lookups answered from the cache");
        _meter.CreateObservableCounter("raftkv_block_cache_misses_total", () => stats().CacheMisses, description: "Block cache lookups that had to read the block (local disk or object storage)");
        _meter.CreateObservableCounter("raftkv_block_cache_evictions_total", () => stats().CacheEvictions, description: "Blocks evicted from the block cache to stay within its capacity");
        _meter.CreateObservableCounter("raftkv_block_cache_promotions_total", () => stats().CachePromotions, description: "Blocks read from object storage and added to the block cache");
        _meter.CreateObservableCounter("raftkv_compactions_total", () => stats().Compactions, description: "Compactions that rewrote tables");
        _meter.CreateObservableCounter("raftkv_flush_written_bytes_total", () => stats().FlushBytesWritten, unit: "By", description: "Bytes memtable flushes wrote (tables and value files)");
        _meter.CreateObservableCounter("raftkv_compaction_read_bytes_total", () => stats().CompactionBytesRead, unit: "By", description: "Bytes of the input tables of compactions that rewrote tables");
        _meter.CreateObservableCounter("raftkv_compaction_written_bytes_total", () => stats().CompactionBytesWritten, unit: "By", description: "Bytes compactions wrote (output tables and relocated values)");
        _meter.CreateObservableCounter("raftkv_trivial_moves_total", () => stats().TrivialMoves, description: "Tables moved down a level without a rewrite");
        _meter.CreateObservableCounter("raftkv_remote_tables_compacted_total", () => stats().RemoteTablesCompacted, description: "Archived tables read back from object storage by compactions (their data is local again)");
        _meter.CreateObservableCounter("raftkv_remote_bytes_compacted_total", () => stats().RemoteBytesCompacted, unit: "By", description: "Bytes of archived tables read back from object storage by compactions");
        _meter.CreateObservableGauge("raftkv_block_cache_bytes", () => stats().CacheBytes, unit: "By", description: "Bytes held by the block cache (decoded blocks)");
        _meter.CreateObservableGauge("raftkv_block_cache_capacity_bytes", () => stats().CacheCapacityBytes, unit: "By", description: "Capacity of the block cache (the read-cache share of MEMORY_MAX_SIZE_MB)");
        _meter.CreateObservableCounter("raftkv_object_read_requests_total", () => stats().ObjectReadRequests, description: "Ranged reads (GETs) of archived tables issued by the storage engine");
        _meter.CreateObservableCounter("raftkv_object_read_bytes_total", () => stats().ObjectReadBytes, description: "Bytes read from archived tables by the storage engine");
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
