namespace RaftKv.Replication.Api;

/// <summary>A role's permission on a key or a range, with etcd's encoding: <paramref name="RangeEnd"/>
/// empty = the single key <paramref name="Key"/>; <c>[0x00]</c> = every key from <paramref name="Key"/> on;
/// otherwise the range [Key, RangeEnd) (a prefix is sent by clients as its prefix end).</summary>
public sealed record AuthPermission(AuthPermissionType Type, byte[] Key, byte[] RangeEnd)
{
    /// <summary>True when this permission grants <paramref name="write"/> (write) or read access.</summary>
    public bool Allows(bool write) => Type == AuthPermissionType.ReadWrite || Type == (write ? AuthPermissionType.Write : AuthPermissionType.Read);

    /// <summary>Same key and range end (a role holds at most one permission per range; etcd).</summary>
    public bool SameRange(ReadOnlySpan<byte> key, ReadOnlySpan<byte> rangeEnd) => Key.AsSpan().SequenceEqual(key) && RangeEnd.AsSpan().SequenceEqual(rangeEnd);
}
