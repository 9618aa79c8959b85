namespace RaftKv.Replication.Api;

/// <summary>Sort order of a <see cref="RangeRequest"/> (etcd's <c>RangeRequest.SortOrder</c>).
/// <see cref="None"/> with <see cref="SortTarget.Key"/> means ascending by key (etcd's defaulting rule);
/// <see cref="None"/> with another target also sorts ascending by that target.</summary>
public enum SortOrder : byte
{
    None = 0,
    Ascend = 1,
    Descend = 2,
}
