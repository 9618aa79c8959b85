namespace RaftKv.Tiering.Backups;

/// <summary>A member of the cluster a backup was taken from: node id and Raft address (informational: a
/// restore builds a new cluster with the members it is given).</summary>
public sealed record BackupMember(long Id, string Address);
