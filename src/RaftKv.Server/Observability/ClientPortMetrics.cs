using RaftKv.Server.Hosting.ClientPorts;

namespace RaftKv.Server.Observability;

/// <summary>
/// <c>raftkv_http2_ping_acks_coalesced_total</c> on <see cref="ServerMeter"/>: answers to grpc-go's BDP pings that the
/// client ports sent with the next response instead of on their own (<see cref="PingAckCoalescingWriter"/>).
/// </summary>
public static class ClientPortMetrics
{
    /// <summary>Observes the process-wide count (once per process).</summary>
    public static void Register()
        => ServerMeter.Meter.CreateObservableCounter(
            "raftkv_http2_ping_acks_coalesced_total",
            () => PingAckCoalescingWriter.DeferredTotal,
            description: "PING ACKs answering grpc-go's BDP pings that left the client ports with the next frames instead of in a write of their own");
}
