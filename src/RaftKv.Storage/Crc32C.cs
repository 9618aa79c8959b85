using System.Buffers.Binary;
using System.Numerics;
using System.Runtime.CompilerServices;

namespace RaftKv.Storage;

/// <summary>CRC32C (Castagnoli), hardware-accelerated where available. Used on every on-disk block and record.</summary>
public static class Crc32C
{
    public static uint Compute(ReadOnlySpan<byte> data) => ~Append(0xFFFFFFFFu, data);

    public static uint Compute(ReadOnlySpan<byte> first, ReadOnlySpan<byte> second) => ~Append(Append(0xFFFFFFFFu, first), second);

    /// <summary>Initial state for incremental computation: <c>Finish(Append(Append(Start, a), b))</c>.</summary>
    public const uint Start = 0xFFFFFFFFu;

    public static uint Finish(uint state) => ~state;

    /// <summary>Feeds <paramref name="data"/> into an incremental CRC state.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // hot path: skip tier-0 code
    public static uint Append(uint crc, ReadOnlySpan<byte> data)
    {
        while (data.Length >= 8)
        {
            crc = BitOperations.Crc32C(crc, BinaryPrimitives.ReadUInt64LittleEndian(data));
            data = data[8..];
        }

        foreach (var b in data)
        {
            crc = BitOperations.Crc32C(crc, b);
        }

        return crc;
    }
}
