namespace RaftKv.Replication.Api;

/// <summary>What a <see cref="KvCompare"/> tests (etcd's <c>Compare.CompareTarget</c> plus the native <see cref="Exists"/>).</summary>
public enum CompareTarget : byte
{
    /// <summary>The key's etcd version: number of puts since creation (0 when absent).
    /// NOTE: before MVCC (command format ≤ 2) target 0 meant the Raft index of the key's last write; such
    /// entries decode as <see cref="Mod"/>. The native API's <c>version</c> compare maps to <see cref="Mod"/>.</summary>
    Version = 0,
    Value = 1,
    Exists = 2,

    /// <summary>The key's create revision (0 when absent).</summary>
    Create = 3,

    /// <summary>The key's mod revision (0 when absent).</summary>
    Mod = 4,

    /// <summary>The key's lease id (0 when absent or without a lease).</summary>
    Lease = 5,
}

public enum CompareOp : byte
{
    Equal = 0,
    NotEqual = 1,
    Greater = 2,
    Less = 3,
}

/// <summary>A guard of a transaction, evaluated at apply time against the committed state (etcd Txn semantics).</summary>
/// <remarks>
/// <para>Numeric operand: <see cref="Version"/> for every numeric target; for <see cref="CompareTarget.Create"/> /
/// <see cref="CompareTarget.Mod"/> a non-zero <see cref="Revision"/> wins, for <see cref="CompareTarget.Lease"/> a
/// non-zero <see cref="Lease"/> wins (<see cref="Operand"/>).</para>
/// <para><see cref="RangeEnd"/> (same conventions as <see cref="RangeRequest"/>; null/empty = the single key):
/// the compare holds iff it holds for every existing key in the range; over no key (an empty range, a RangeEnd below
/// the key, or a single absent key) it compares version/create/mod/lease 0 and a value compare fails (etcd's
/// <c>applyCompare</c>).</para>
/// </remarks>
public sealed record KvCompare(byte[] Key, CompareTarget Target, CompareOp Op, long Version = 0, byte[]? Value = null, bool Exists = false,
    byte[]? RangeEnd = null, long Lease = 0, long Revision = 0)
{
    /// <summary>The numeric operand of a Version/Create/Mod/Lease compare.</summary>
    public long Operand => Target switch
    {
        CompareTarget.Create or CompareTarget.Mod when Revision != 0 => Revision,
        CompareTarget.Lease when Lease != 0 => Lease,
        _ => Version,
    };

    /// <summary>Whether this compare covers a range rather than one key.</summary>
    public bool IsRange => RangeEnd is { Length: > 0 };
}
