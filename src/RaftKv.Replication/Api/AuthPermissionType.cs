namespace RaftKv.Replication.Api;

/// <summary>What a role's permission allows on its keys (etcd's authpb.Permission.Type, same numbers).</summary>
public enum AuthPermissionType : byte
{
    Read = 0,
    Write = 1,
    ReadWrite = 2,
}
