namespace RaftKv.Replication.Api;

/// <summary>A role of the replicated auth state and its permissions (in grant order).</summary>
public sealed record AuthRole(string Name, IReadOnlyList<AuthPermission> Permissions);
