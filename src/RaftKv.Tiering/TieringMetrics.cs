using System.Diagnostics.Metrics;

namespace RaftKv.Tiering;

/// <summary>Archiver metrics (Meter "RaftKv.Tiering").</summary>
internal static class TieringMetrics
{
    private static readonly Meter Meter = new("RaftKv.Tiering");

    public static readonly Counter<long> Migrations = Meter.CreateCounter<long>("raftkv_tiering_migrations", description: "Tables archived to object storage");

    public static readonly Counter<long> BytesUploaded = Meter.CreateCounter<long>("raftkv_tiering_uploaded_bytes", description: "Bytes uploaded to object storage");

    public static readonly Counter<long> Errors = Meter.CreateCounter<long>("raftkv_tiering_errors", description: "Failed archiver passes");
}
