namespace RaftKv.Replication.State;

/// <summary>Content equality of byte arrays (dictionary keys).</summary>
internal sealed class ByteArrayEquality : IEqualityComparer<byte[]>
{
    public static readonly ByteArrayEquality Instance = new();

    public bool Equals(byte[]? x, byte[]? y) => x.AsSpan().SequenceEqual(y);

    public int GetHashCode(byte[] obj)
    {
        var h = default(HashCode);
        h.AddBytes(obj);
        return h.ToHashCode();
    }
}
