using System.IO.Hashing;
using System.Runtime.CompilerServices;

namespace RaftKv.Storage.Tables;

/// <summary>A bloom filter (~10 bits/key; k = ⌊0.69 × bits/key⌋, i.e. 6 at 10 bits/key, as in LevelDB) with double hashing over XxHash3.</summary>
public sealed class BloomFilter
{
    private readonly byte[] _bits;
    private readonly int _k;
    private readonly uint _nbits;
    private readonly ulong _modMultiplier;

    private BloomFilter(byte[] bits, int k)
    {
        _bits = bits;
        _k = k;
        _nbits = (uint)(bits.Length * 8);
        _modMultiplier = ModMultiplier(_nbits);
    }

    public static BloomFilter Build(IReadOnlyList<ulong> hashes, int bitsPerKey = 10)
    {
        var nbits = Math.Max(64, hashes.Count * bitsPerKey);
        var bits = new byte[(nbits + 7) / 8];
        var k = Math.Clamp((int)(bitsPerKey * 0.69), 1, 30);
        var filter = new BloomFilter(bits, k);
        foreach (var h in hashes)
        {
            filter.Add(h);
        }

        return filter;
    }

    public static ulong Hash(ReadOnlySpan<byte> key) => XxHash3.HashToUInt64(key);

    /// <summary>Parses a bloom block payload (<c>k:u8 bits[]</c>).</summary>
    public static BloomFilter Parse(byte[] payload) => new(payload[1..], payload[0]);

    public byte[] Serialize()
    {
        var result = new byte[_bits.Length + 1];
        result[0] = (byte)_k;
        _bits.CopyTo(result, 1);
        return result;
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // hot path: skip tier-0 code
    public bool MayContain(ulong hash)
    {
        var h1 = (uint)hash;
        var h2 = (uint)(hash >> 32);
        for (var i = 0; i < _k; i++)
        {
            var bit = Mod(h1 + ((uint)i * h2), _nbits, _modMultiplier);
            if ((_bits[bit >> 3] & (1 << (int)(bit & 7))) == 0)
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>The multiplier for <see cref="Mod"/> by <paramref name="divisor"/> (0 when the divisor is 0).</summary>
    internal static ulong ModMultiplier(uint divisor) => divisor == 0 ? 0 : (ulong.MaxValue / divisor) + 1;

    /// <summary><paramref name="value"/> % <paramref name="divisor"/>, exactly, by multiplication
    /// (Lemire's fastmod: no division per probe). Bit positions, and so the format, are unchanged.</summary>
    internal static uint Mod(uint value, uint divisor, ulong multiplier)
        => divisor == 1 ? 0 : (uint)Math.BigMul(multiplier * value, divisor, out _);

    private void Add(ulong hash)
    {
        var h1 = (uint)hash;
        var h2 = (uint)(hash >> 32);
        for (var i = 0; i < _k; i++)
        {
            var bit = Mod(h1 + ((uint)i * h2), _nbits, _modMultiplier);
            _bits[bit >> 3] |= (byte)(1 << (int)(bit & 7));
        }
    }
}
