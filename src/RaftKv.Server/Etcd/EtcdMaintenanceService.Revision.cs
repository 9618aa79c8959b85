namespace RaftKv.Server.Etcd;

public sealed partial class EtcdMaintenanceService
{
    private long CurrentRevision() => 0;
}
