using System.Runtime.CompilerServices;

namespace RaftKv.Storage;

/// <summary>LEB128 unsigned varints used by the block and manifest encodings.</summary>
public static class Varint
{
    public static void Write(List<byte> output, ulong value)
    {
        while (value >= 0x80)
        {
            output.Add((byte)(value | 0x80));
            value >>= 7;
        }

        output.Add((byte)value);
    }

    public static int Write(Span<byte> output, ulong value)
    {
        var i = 0;
        while (value >= 0x80)
        {
            output[i++] = (byte)(value | 0x80);
            value >>= 7;
        }

        output[i++] = (byte)value;
        return i;
    }

    /// <summary>Reads a varint at <paramref name="pos"/> and advances it; throws <see cref="FormatException"/> on overrun.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // hot loop: skip tier-0 code
    public static ulong Read(ReadOnlySpan<byte> input, ref int pos)
    {
        // Fast path: most lengths, flags and zero expiries fit in one byte.
        if ((uint)pos < (uint)input.Length && input[pos] < 0x80)
        {
            return input[pos++];
        }

        return ReadMultiByte(input, ref pos);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // hot loop: skip tier-0 code
    private static ulong ReadMultiByte(ReadOnlySpan<byte> input, ref int pos)
    {
        ulong result = 0;
        for (var shift = 0; shift < 64; shift += 7)
        {
            if (pos >= input.Length)
            {
                throw new FormatException("truncated varint");
            }

            var b = input[pos++];
            result |= (ulong)(b & 0x7F) << shift;
            if (b < 0x80)
            {
                return result;
            }
        }

        throw new FormatException("varint too long");
    }

    /// <summary>Appends <c>length:varint data</c>.</summary>
    public static void WriteBytes(List<byte> output, ReadOnlySpan<byte> data)
    {
        Write(output, (ulong)data.Length);
        output.AddRange(data);
    }

    /// <summary>Reads <c>length:varint data</c> at <paramref name="pos"/> and advances it; throws
    /// <see cref="FormatException"/> when the length runs past the input.</summary>
    public static byte[] ReadBytes(ReadOnlySpan<byte> input, ref int pos)
    {
        var n = Read(input, ref pos);
        if (n > (ulong)(input.Length - pos))
        {
            throw new FormatException($"length {n} at offset {pos} runs past the end ({input.Length} bytes)");
        }

        var r = input.Slice(pos, (int)n).ToArray();
        pos += (int)n;
        return r;
    }
}
