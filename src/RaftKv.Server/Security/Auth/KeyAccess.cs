namespace RaftKv.Server.Security.Auth;

/// <summary>One key or range a request touches: etcd's encoding of <paramref name="RangeEnd"/> (empty = the
/// single key, <c>[0x00]</c> = from the key on), and whether it writes.</summary>
public sealed record KeyAccess(byte[] Key, byte[] RangeEnd, bool Write)
{
    public static KeyAccess Read(byte[] key, byte[]? rangeEnd = null) => new(key, rangeEnd ?? [], false);

    public static KeyAccess ToWrite(byte[] key, byte[]? rangeEnd = null) => new(key, rangeEnd ?? [], true);

    /// <summary>Every key starting with <paramref name="prefix"/> (an empty prefix = every key).</summary>
    public static byte[] PrefixEnd(byte[] prefix) => prefix.Length == 0 ? [0] : Replication.Api.KeyRanges.PrefixEnd(prefix) is { Length: > 0 } e ? e : [0];
}
