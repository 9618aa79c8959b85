using RaftKv.Server.Hosting;

namespace RaftKv.Server.Observability;

/// <summary>
/// <c>raftkv_object_store_reachable</c> on <see cref="ServerMeter"/>: 1 while the node's last call to its object store
/// succeeded, 0 after a transport failure (until a call succeeds again); no sample without an object store or before
/// the first call ends. Observed from <see cref="TieringHost.ObjectStore"/> when a scrape comes.
/// </summary>
public static class ObjectStoreMetrics
{
    /// <summary>Observes <paramref name="tiering"/> (once per process: the server hosts one node).</summary>
    public static void Register(TieringHost tiering)
    {
        ArgumentNullException.ThrowIfNull(tiering);
        ServerMeter.Meter.CreateObservableGauge(
            "raftkv_object_store_reachable",
            () => tiering.ObjectStore is { Reachable: { } up } ? [new System.Diagnostics.Metrics.Measurement<int>(up ? 1 : 0)] : Array.Empty<System.Diagnostics.Metrics.Measurement<int>>(),
            description: "1 while the last call to the object store succeeded, 0 after a transport failure (reads of archived tables answer 503 then)");
    }
}
