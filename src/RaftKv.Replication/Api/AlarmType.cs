namespace RaftKv.Replication.Api;

/// <summary>Kinds of cluster alarm. The numbers are etcd's <c>AlarmType</c> (etcdserverpb), so the
/// etcd Maintenance.Alarm API can list them unchanged.</summary>
public enum AlarmType
{
    None = 0,

    /// <summary>A member ran out of space (etcd's NOSPACE): raised by the space quota (docs/architecture.md,
    /// "Space quota"); while active, writes that add data are refused on every member.</summary>
    NoSpace = 1,

    /// <summary>A member's state differs from the others' at the same applied index (etcd's CORRUPT):
    /// raised by the corruption check (docs/architecture.md, "Corruption check").</summary>
    Corrupt = 2,
}
