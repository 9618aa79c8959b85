using System.Buffers;
using System.Buffers.Binary;

namespace RaftKv.Server.Hosting.ClientPorts;

/// <summary>
/// The HTTP/2 framing <see cref="Http2AuthorityReader"/> needs (RFC 9113 §4.1, §6.2): frame boundaries, and a HEADERS
/// frame with its <c>:authority</c> fixed by <see cref="HeaderBlockAuthority"/>. Only a HEADERS frame that carries a
/// whole header block (END_HEADERS) is looked into; one continued in CONTINUATION frames is passed on unchanged.
/// </summary>
public static class Http2HeadersFrame
{
    /// <summary>Frame header length.</summary>
    public const int HeaderLength = 9;

    /// <summary>The largest frame this rewrites into (the protocol's default SETTINGS_MAX_FRAME_SIZE, which every
    /// server accepts).</summary>
    public const int MaxPayload = 16_384;

    private const byte HeadersType = 0x1;
    private const byte EndHeaders = 0x4;
    private const byte Padded = 0x8;
    private const byte Priority = 0x20;

    /// <summary>The length of the complete frame at the start of <paramref name="buffer"/>, or -1 when it is not all there yet.</summary>
    public static long FrameLength(ReadOnlySequence<byte> buffer)
    {
        if (buffer.Length < HeaderLength)
        {
            return -1;
        }

        Span<byte> header = stackalloc byte[HeaderLength];
        buffer.Slice(0, HeaderLength).CopyTo(header);
        var total = HeaderLength + ((header[0] << 16) | (header[1] << 8) | header[2]);
        return buffer.Length >= total ? total : -1;
    }

    /// <summary>True when the complete frame <paramref name="frame"/> is a HEADERS frame.</summary>
    public static bool IsHeaders(ReadOnlySequence<byte> frame) => frame.Length >= HeaderLength && frame.Slice(3, 1).FirstSpan[0] == HeadersType;

    /// <summary>Inspects a complete HEADERS frame's header block; on <see cref="HeaderBlockAuthority.Finding.Rewritten"/>
    /// <paramref name="rewritten"/> is the whole new frame (same type, flags, stream and padding; new length).</summary>
    public static HeaderBlockAuthority.Finding Inspect(ReadOnlySequence<byte> frame, out byte[]? rewritten)
    {
        rewritten = null;
        var bytes = frame.ToArray();
        var flags = bytes[4];
        if ((flags & EndHeaders) == 0)
        {
            return HeaderBlockAuthority.Finding.None; // continued: left as it is
        }

        var start = HeaderLength;
        var end = bytes.Length;
        if ((flags & Padded) != 0)
        {
            if (start >= end)
            {
                return HeaderBlockAuthority.Finding.Malformed;
            }

            end -= bytes[start];
            start++;
        }

        if ((flags & Priority) != 0)
        {
            start += 5;
        }

        if (start > end)
        {
            return HeaderBlockAuthority.Finding.Malformed;
        }

        var finding = HeaderBlockAuthority.Inspect(bytes.AsSpan(start, end - start), out var block);
        if (finding != HeaderBlockAuthority.Finding.Rewritten)
        {
            return finding;
        }

        var payload = (start - HeaderLength) + block!.Length + (bytes.Length - end);
        if (payload > MaxPayload)
        {
            return HeaderBlockAuthority.Finding.Malformed; // cannot grow it: left to Kestrel
        }

        rewritten = new byte[HeaderLength + payload];
        bytes.AsSpan(0, start).CopyTo(rewritten);
        block.CopyTo(rewritten.AsSpan(start));
        bytes.AsSpan(end).CopyTo(rewritten.AsSpan(start + block.Length));
        rewritten[0] = (byte)(payload >> 16);
        BinaryPrimitives.WriteUInt16BigEndian(rewritten.AsSpan(1), (ushort)payload);
        return finding;
    }
}
