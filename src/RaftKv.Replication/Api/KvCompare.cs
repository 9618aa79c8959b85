namespace RaftKv.Replication.Api;

public enum CompareTarget : byte
{
    /// <summary>The key's version (Raft index of its last write; 0 when absent).</summary>
    Version = 0,
    Value = 1,
    Exists = 2,
}

public enum CompareOp : byte
{
    Equal = 0,
    NotEqual = 1,
    Greater = 2,
    Less = 3,
}

/// <summary>A guard of a transaction, evaluated at apply time against the committed state (etcd Txn semantics).</summary>
public sealed record KvCompare(byte[] Key, CompareTarget Target, CompareOp Op, long Version = 0, byte[]? Value = null, bool Exists = false);
