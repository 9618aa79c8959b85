using RaftKv.Replication.Api;

namespace RaftKv.Replication.Backup;

/// <summary>
/// etcd's auth state as read from its backend (<c>auth</c>, <c>authUsers</c>, <c>authRoles</c> buckets), the input
/// <see cref="EtcdImport"/> turns into RaftKv's replicated auth records (<see cref="EtcdAuthImport"/>).
/// </summary>
/// <param name="Enabled">etcd's <c>authEnabled</c> flag.</param>
/// <param name="Revision">etcd's <c>authRevision</c> (0 when absent).</param>
/// <param name="Users">The users, in any order.</param>
/// <param name="Roles">The roles with their permissions, in any order.</param>
public sealed record EtcdAuth(bool Enabled, long Revision, IReadOnlyList<EtcdUser> Users, IReadOnlyList<AuthRole> Roles)
{
    /// <summary>No users, no roles, auth disabled (an etcd that never used auth).</summary>
    public static readonly EtcdAuth None = new(false, 0, [], []);
}
