namespace RaftKv.Replication.Api;

/// <summary>What a <see cref="RangeRequest"/> sorts by (etcd's <c>RangeRequest.SortTarget</c>).</summary>
public enum SortTarget : byte
{
    Key = 0,
    Version = 1,
    Create = 2,
    Mod = 3,
    Value = 4,
}
