using System.Text;

namespace RaftKv.Server.Hosting.ClientPorts;

/// <summary>
/// Finds the <c>:authority</c> of an HTTP/2 request header block (HPACK, RFC 7541) and, when it is a URL rather than
/// <c>host[:port]</c>, rewrites it to one. etcd 3.4's Go client dials a maintenance call (<c>etcdctl endpoint status</c>,
/// <c>defrag</c>, <c>alarm list</c>, <c>--cluster</c> variants) to the endpoint string as given —
/// <c>--endpoints http://host:2379</c> — and sends that whole URL as <c>:authority</c>; Go's gRPC server takes it,
/// Kestrel resets the stream (PROTOCOL_ERROR: invalid Host). The rewrite keeps the value's decoded length (the port is
/// padded with leading zeros, or <c>:0…</c> is appended), so both ends of the connection still agree on the size of
/// HPACK's dynamic table, and later requests that refer to the entry by index see the fixed value too. Only the block's
/// structure is parsed (integers and string lengths); values are Huffman-decoded only for <c>:authority</c>.
/// </summary>
public static class HeaderBlockAuthority
{
    /// <summary>What <see cref="Inspect"/> found.</summary>
    public enum Finding
    {
        /// <summary>No literal <c>:authority</c> (absent, or sent by index).</summary>
        None,

        /// <summary>A literal <c>:authority</c> that is already <c>host[:port]</c>.</summary>
        Valid,

        /// <summary>A literal URL-style <c>:authority</c>; <c>rewritten</c> holds the fixed block.</summary>
        Rewritten,

        /// <summary>The block does not parse (left to Kestrel, which will refuse it).</summary>
        Malformed,
    }

    private static ReadOnlySpan<byte> AuthorityName => ":authority"u8;

    /// <summary>Looks for literal <c>:authority</c> fields in <paramref name="block"/> (one complete header block) and
    /// rewrites URL-style values; <paramref name="rewritten"/> is the new block when the finding is <see cref="Finding.Rewritten"/>.</summary>
    public static Finding Inspect(ReadOnlySpan<byte> block, out byte[]? rewritten)
    {
        rewritten = null;
        var finding = Finding.None;
        List<(int Start, int End, byte[] Replacement)>? edits = null;
        var i = 0;
        while (i < block.Length)
        {
            var b = block[i];
            int nameIndex;
            if ((b & 0x80) != 0)
            {
                if (!TryReadInt(block, ref i, 7, out _))
                {
                    return Finding.Malformed; // indexed field: nothing literal to look at
                }

                continue;
            }

            if ((b & 0xE0) == 0x20)
            {
                if (!TryReadInt(block, ref i, 5, out _))
                {
                    return Finding.Malformed; // dynamic table size update
                }

                continue;
            }

            var prefix = (b & 0xC0) == 0x40 ? 6 : 4; // with incremental indexing : without / never indexed
            if (!TryReadInt(block, ref i, prefix, out nameIndex))
            {
                return Finding.Malformed;
            }

            var isAuthority = nameIndex == 1; // the static table's :authority
            if (nameIndex == 0)
            {
                if (!TryReadString(block, ref i, out var nameStart, out var nameEnd, out var nameHuffman))
                {
                    return Finding.Malformed;
                }

                var name = nameHuffman ? HpackHuffman.Decode(block[nameStart..nameEnd]) : block[nameStart..nameEnd].ToArray();
                isAuthority = name is not null && name.AsSpan().SequenceEqual(AuthorityName);
            }

            var valueAt = i;
            if (!TryReadString(block, ref i, out var valueStart, out var valueEnd, out var valueHuffman))
            {
                return Finding.Malformed;
            }

            if (!isAuthority)
            {
                continue;
            }

            var value = valueHuffman ? HpackHuffman.Decode(block[valueStart..valueEnd]) : block[valueStart..valueEnd].ToArray();
            if (value is null)
            {
                return Finding.Malformed;
            }

            if (Fix(value) is { } fixedValue)
            {
                (edits ??= []).Add((valueAt, i, RawString(fixedValue)));
                finding = Finding.Rewritten;
            }
            else if (finding == Finding.None)
            {
                finding = Finding.Valid;
            }
        }

        if (edits is not null)
        {
            var output = new List<byte>(block.Length + 16);
            var at = 0;
            foreach (var (start, end, replacement) in edits)
            {
                output.AddRange(block[at..start]);
                output.AddRange(replacement);
                at = end;
            }

            output.AddRange(block[at..]);
            rewritten = [.. output];
        }

        return finding;
    }

    /// <summary>The <c>host[:port]</c> of a URL-style authority (<c>scheme://host[:port][/…]</c>) with the same length
    /// as <paramref name="value"/>; null when it is not URL-style (or has no host).</summary>
    public static byte[]? Fix(byte[] value)
    {
        ArgumentNullException.ThrowIfNull(value);
        var text = Encoding.ASCII.GetString(value);
        var scheme = text.IndexOf("://", StringComparison.Ordinal);
        if (scheme < 0)
        {
            return null;
        }

        var hostPort = text[(scheme + 3)..];
        var slash = hostPort.IndexOf('/', StringComparison.Ordinal);
        if (slash >= 0)
        {
            hostPort = hostPort[..slash];
        }

        var at = hostPort.LastIndexOf('@'); // user info is not part of a Host
        if (at >= 0)
        {
            hostPort = hostPort[(at + 1)..];
        }

        var colon = hostPort.LastIndexOf(':');
        var hasPort = colon >= 0 && colon > hostPort.LastIndexOf(']');
        var host = hasPort ? hostPort[..colon] : hostPort;
        var port = hasPort ? hostPort[(colon + 1)..] : string.Empty;
        if (host.Length == 0 || !port.All(char.IsAsciiDigit))
        {
            return null;
        }

        // Pad the port with leading zeros to keep the decoded length (HPACK's table accounting); no port: ":0…".
        var room = value.Length - host.Length - 1;
        if (room < Math.Max(port.Length, 1))
        {
            return null;
        }

        return Encoding.ASCII.GetBytes(host + ":" + port.PadLeft(room, '0'));
    }

    /// <summary>An HPACK string literal, not Huffman-coded.</summary>
    private static byte[] RawString(byte[] value)
    {
        var output = new List<byte>(value.Length + 5);
        WriteInt(output, value.Length, 7, 0x00);
        output.AddRange(value);
        return [.. output];
    }

    private static void WriteInt(List<byte> output, int value, int prefixBits, byte flags)
    {
        var max = (1 << prefixBits) - 1;
        if (value < max)
        {
            output.Add((byte)(flags | value));
            return;
        }

        output.Add((byte)(flags | max));
        value -= max;
        while (value >= 0x80)
        {
            output.Add((byte)((value & 0x7F) | 0x80));
            value >>= 7;
        }

        output.Add((byte)value);
    }

    private static bool TryReadInt(ReadOnlySpan<byte> block, ref int i, int prefixBits, out int value)
    {
        var max = (1 << prefixBits) - 1;
        value = block[i++] & max;
        if (value < max)
        {
            return true;
        }

        for (var shift = 0; shift <= 21; shift += 7)
        {
            if (i >= block.Length)
            {
                return false;
            }

            var b = block[i++];
            value += (b & 0x7F) << shift;
            if ((b & 0x80) == 0)
            {
                return true;
            }
        }

        return false; // longer than any header field this server accepts
    }

    private static bool TryReadString(ReadOnlySpan<byte> block, ref int i, out int start, out int end, out bool huffman)
    {
        start = end = 0;
        huffman = false;
        if (i >= block.Length)
        {
            return false;
        }

        huffman = (block[i] & 0x80) != 0;
        if (!TryReadInt(block, ref i, 7, out var length) || length > block.Length - i)
        {
            return false;
        }

        start = i;
        end = i + length;
        i = end;
        return true;
    }
}
