using System.Diagnostics.Metrics;

namespace RaftKv.Tiering;

/// <summary>
/// The archiver's counters (Meter <see cref="MeterName"/>). Instrument names are the exported Prometheus
/// names; the server's exporter publishes them as named, and this assembly knows no exporter
/// (docs/architecture.md, "Metrics"). The meter is created with the first archiver pass that counts
/// something, so the series appear on nodes with an object store once they have archived or failed.
/// </summary>
internal static class TieringMetrics
{
    public const string MeterName = "RaftKv.Tiering";

    private static readonly Meter Meter = new(MeterName);

    public static readonly Counter<long> Migrations = Meter.CreateCounter<long>("raftkv_tiering_migrations_total", description: "Tables archived to object storage");

    public static readonly Counter<long> BytesUploaded = Meter.CreateCounter<long>("raftkv_tiering_uploaded_bytes_total", unit: "By", description: "Bytes of tables uploaded to object storage");

    public static readonly Counter<long> Errors = Meter.CreateCounter<long>("raftkv_tiering_errors_total", description: "Failed archiver passes");
}
