using System.Diagnostics.Metrics;

namespace RaftKv.Server.Observability;

/// <summary>
/// The Meter (<see cref="Name"/>) of the series RaftKv exports under etcd's own names — <c>etcd_*</c>,
/// go-grpc-prometheus' <c>grpc_server_*</c> and the Prometheus process collector's <c>process_*</c> — so that
/// etcd's alerting rules, dashboards and <c>etcdctl check datascale</c> work unchanged against a RaftKv member
/// (<see cref="EtcdMetrics"/>, <see cref="GrpcServerMetrics"/>; docs/operations.md, "etcd's metric names").
/// <see cref="PrometheusMeterExporter"/> exports these instruments under their names as they are.
/// </summary>
public static class EtcdMeter
{
    public const string Name = "RaftKv.EtcdCompat";

    public static readonly Meter Meter = new(Name);
}
