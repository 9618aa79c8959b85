using System.Runtime.InteropServices;
using Google.Protobuf;

namespace RaftKv.Server.Grpc;

/// <summary>Bytes of request messages handed to the replication API without a copy when that is safe.</summary>
public static class ByteStrings
{
    /// <summary>The bytes of <paramref name="s"/> as an array the caller must not change: the array the parser made for
    /// this field when the field owns all of it (a parsed <see cref="ByteString"/> is immutable and never aliases the
    /// request buffer), else a copy. Saves one copy of every value of every put (64 KiB for a large value).</summary>
    public static byte[] Bytes(ByteString s)
        => MemoryMarshal.TryGetArray(s.Memory, out var segment) && segment.Offset == 0 && segment.Array is { } array && segment.Count == array.Length
            ? array
            : s.ToByteArray();
}
