using System.Buffers.Binary;

namespace RaftKv.Storage.Memtables;

/// <summary>Big-endian integer views of the first <see cref="Bytes"/> key bytes: comparing them as
/// unsigned integers orders keys exactly like the unsigned lexicographic <see cref="KeyComparer"/>
/// on those bytes (with zero padding past the key's end).</summary>
internal static class KeyPrefix
{
    public const int Bytes = 16;

    /// <summary>Key bytes [<paramref name="from"/>, from + 8) as a big-endian integer, zero-padded.</summary>
    public static ulong Read(ReadOnlySpan<byte> key, int from)
    {
        if (key.Length >= from + 8)
        {
            return BinaryPrimitives.ReadUInt64BigEndian(key[from..]);
        }

        if (key.Length <= from)
        {
            return 0;
        }

        Span<byte> padded = stackalloc byte[8];
        padded.Clear();
        key[from..].CopyTo(padded);
        return BinaryPrimitives.ReadUInt64BigEndian(padded);
    }
}
