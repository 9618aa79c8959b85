using System.Diagnostics.Metrics;

namespace RaftKv.Server.Observability;

/// <summary>The server's own Meter (<see cref="Name"/>): client operations (<see cref="OperationMetrics"/>)
/// and the leader's view of follower lag (<see cref="FollowerLagMetrics"/>). Like every layer's meter it is
/// exported by <see cref="PrometheusMeterExporter"/> under its instruments' own names.</summary>
public static class ServerMeter
{
    public const string Name = "RaftKv.Server";

    public static readonly Meter Meter = new(Name);
}
