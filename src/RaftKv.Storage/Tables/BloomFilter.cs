using System.IO.Hashing;
using System.Runtime.CompilerServices;

namespace RaftKv.Storage.Tables;

/// <summary>A bloom filter (~10 bits/key; k = ⌊0.69 × bits/key⌋, i.e. 6 at 10 bits/key, as in LevelDB) with double hashing over XxHash3.</summary>
public sealed class BloomFilter
{
    private readonly byte[] _bits;
    private readonly int _k;

    private BloomFilter(byte[] bits, int k)
    {
        _bits = bits;
        _k = k;
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
        var nbits = (uint)(_bits.Length * 8);
        var h1 = (uint)hash;
        var h2 = (uint)(hash >> 32);
        for (var i = 0; i < _k; i++)
        {
            var bit = (h1 + ((uint)i * h2)) % nbits;
            if ((_bits[bit >> 3] & (1 << (int)(bit & 7))) == 0)
            {
                return false;
            }
        }

        return true;
    }

    private void Add(ulong hash)
    {
        var nbits = (uint)(_bits.Length * 8);
        var h1 = (uint)hash;
        var h2 = (uint)(hash >> 32);
        for (var i = 0; i < _k; i++)
        {
            var bit = (h1 + ((uint)i * h2)) % nbits;
            _bits[bit >> 3] |= (byte)(1 << (int)(bit & 7));
        }
    }
}
