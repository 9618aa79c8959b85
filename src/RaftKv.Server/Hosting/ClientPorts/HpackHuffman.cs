namespace RaftKv.Server.Hosting.ClientPorts;

/// <summary>
/// HPACK's Huffman code (RFC 7541 Appendix B), decode only: the code is canonical (codes assigned in order of
/// length, then symbol), so the table is just each symbol's code length; 256 is EOS. Used to read the few header
/// values <see cref="HeaderBlockAuthority"/> looks at, so it favours size over speed.
/// </summary>
public static class HpackHuffman
{
    /// <summary>Code length in bits of each symbol 0–255 and EOS (256), from RFC 7541 Appendix B.</summary>
    private static readonly byte[] Lengths =
    [
        13, 23, 28, 28, 28, 28, 28, 28, 28, 24, 30, 28, 28, 30, 28, 28, 28, 28, 28, 28, 28, 28, 30, 28, 28, 28, 28, 28, 28, 28, 28, 28,
        6, 10, 10, 12, 13, 6, 8, 11, 10, 10, 8, 11, 8, 6, 6, 6, 5, 5, 5, 6, 6, 6, 6, 6, 6, 6, 7, 8, 15, 6, 12, 10,
        13, 6, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 8, 7, 8, 13, 19, 13, 14, 6,
        15, 5, 6, 5, 6, 5, 6, 6, 6, 5, 7, 7, 6, 6, 6, 5, 6, 7, 6, 5, 5, 6, 7, 7, 7, 7, 7, 15, 11, 14, 13, 28,
        20, 22, 20, 20, 22, 22, 22, 23, 22, 23, 23, 23, 23, 23, 24, 23, 24, 24, 22, 23, 24, 23, 23, 23, 23, 21, 22, 23, 22, 23, 23, 24,
        22, 21, 20, 22, 22, 23, 23, 21, 23, 22, 22, 24, 21, 22, 23, 23, 21, 21, 22, 21, 23, 22, 23, 23, 20, 22, 22, 22, 23, 22, 22, 23,
        26, 26, 20, 19, 22, 23, 22, 25, 26, 26, 26, 27, 27, 26, 24, 25, 19, 21, 26, 27, 27, 26, 27, 24, 21, 21, 26, 26, 28, 27, 27, 27,
        20, 24, 20, 21, 22, 21, 21, 23, 22, 22, 25, 25, 24, 24, 26, 23, 26, 27, 26, 26, 27, 27, 27, 27, 27, 28, 27, 27, 27, 27, 27, 26,
        30,
    ];

    private const int MaxLength = 30;

    /// <summary>Symbols in canonical order (by code length, then value).</summary>
    private static readonly int[] Symbols;

    /// <summary>Per code length: the first code of that length, and the index in <see cref="Symbols"/> of its symbol.</summary>
    private static readonly int[] FirstCode = new int[MaxLength + 2];
    private static readonly int[] FirstIndex = new int[MaxLength + 2];
    private static readonly int[] Count = new int[MaxLength + 2];

#pragma warning disable CA1810 // the canonical tables are derived from Lengths in one pass
    static HpackHuffman()
#pragma warning restore CA1810
    {
        Symbols = [.. Enumerable.Range(0, Lengths.Length).OrderBy(s => Lengths[s]).ThenBy(s => s)];
        foreach (var l in Lengths)
        {
            Count[l]++;
        }

        int code = 0, index = 0;
        for (var len = 1; len <= MaxLength; len++)
        {
            FirstCode[len] = code;
            FirstIndex[len] = index;
            code = (code + Count[len]) << 1;
            index += Count[len];
        }
    }

    /// <summary>Decodes a Huffman-coded string; null when it is not valid HPACK Huffman (a code for EOS, padding
    /// longer than 7 bits or not all ones).</summary>
    public static byte[]? Decode(ReadOnlySpan<byte> encoded)
    {
        var output = new List<byte>(encoded.Length * 8 / 5);
        int code = 0, len = 0;
        foreach (var b in encoded)
        {
            for (var bit = 7; bit >= 0; bit--)
            {
                code = (code << 1) | ((b >> bit) & 1);
                len++;
                var offset = code - FirstCode[len];
                if (Count[len] > 0 && offset >= 0 && offset < Count[len])
                {
                    var symbol = Symbols[FirstIndex[len] + offset];
                    if (symbol == 256)
                    {
                        return null; // EOS must not appear in a string
                    }

                    output.Add((byte)symbol);
                    code = 0;
                    len = 0;
                }
                else if (len >= MaxLength)
                {
                    return null;
                }
            }
        }

        // Padding: at most 7 bits, all ones (the EOS prefix).
        return len <= 7 && code == (1 << len) - 1 ? [.. output] : null;
    }
}
