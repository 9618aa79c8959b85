using System.Buffers;
using System.IO.Pipelines;
using System.Text;
using RaftKv.Server.Hosting.ClientPorts;

namespace RaftKv.Server.Tests;

/// <summary><see cref="Http2AuthorityReader"/> over a pipe: what Kestrel would read from a connection.</summary>
public sealed class Http2AuthorityReaderTests
{
    private static readonly byte[] Settings = [0, 0, 0, 0x4, 0, 0, 0, 0, 0];

    [Fact]
    public async Task AUrlAuthorityIsRewrittenAndEverythingElsePassesUnchanged()
    {
        var first = Headers(1, [0x83, 0x86, .. Literal("http://127.0.0.1:23899")]);
        var second = Headers(3, [0x83, 0x86, 0xBE]); // the authority again, by its dynamic table index (62)
        var data = Frame(0x0, 0x1, 1, [0, 0, 0, 0, 0]);
        var (output, rewriting) = await ReadThroughAsync([.. PrefaceSniffer.Preface, .. Settings, .. first, .. second, .. data], chunk: 7);

        var expectedFirst = Headers(1, [0x83, 0x86, 0x41, 22, .. "127.0.0.1:000000023899"u8]);
        Assert.True(rewriting);
        Assert.Equal([.. PrefaceSniffer.Preface, .. Settings, .. expectedFirst, .. second, .. data], output);
    }

    [Fact]
    public async Task AValidAuthorityLeavesTheConnectionAsItIs()
    {
        byte[] input = [.. PrefaceSniffer.Preface, .. Settings, .. Headers(1, [0x83, 0x86, .. Literal("127.0.0.1:23899")]), .. Frame(0x0, 0x1, 1, [1, 2, 3])];
        var (output, rewriting) = await ReadThroughAsync(input, chunk: 5);
        Assert.False(rewriting);
        Assert.Equal(input, output);
    }

    [Fact]
    public async Task AConsumerThatTakesAPartialFrameGetsThePassThroughNotAnException()
    {
        // Kestrel consumes whole frames only; a reader that consumed a frame's first bytes before the inspector saw the
        // frame whole used to make the next read throw (slicing at a negative offset). Now the connection passes through.
        byte[] input = [.. PrefaceSniffer.Preface, .. Settings, .. Headers(1, [0x83, 0x86, .. Literal("http://127.0.0.1:23899")])];
        var split = PrefaceSniffer.Preface.Length + Settings.Length + 4; // inside the HEADERS frame's header
        var pipe = new Pipe();
        var reader = new Http2AuthorityReader(pipe.Reader);
        var output = new List<byte>();
        await pipe.Writer.WriteAsync(input.AsMemory(0, split));
        var read = await reader.ReadAsync();
        output.AddRange(read.Buffer.ToArray());
        reader.AdvanceTo(read.Buffer.End); // everything, the partial frame too
        await pipe.Writer.WriteAsync(input.AsMemory(split));
        await pipe.Writer.CompleteAsync();
        do
        {
            read = await reader.ReadAsync();
            output.AddRange(read.Buffer.ToArray());
            reader.AdvanceTo(read.Buffer.End);
        }
        while (!read.IsCompleted);

        Assert.False(reader.Rewriting);
        Assert.Equal(input, output);
        await reader.CompleteAsync();
    }

    [Fact]
    public async Task NotHttp2PassesThrough()
    {
        var input = "GET /health HTTP/1.1\r\nHost: http://x\r\n\r\n"u8.ToArray();
        var (output, rewriting) = await ReadThroughAsync(input, chunk: 3);
        Assert.False(rewriting);
        Assert.Equal(input, output);
    }

    /// <summary>Writes <paramref name="input"/> in chunks, reads it all through the reader as Kestrel would.</summary>
    private static async Task<(byte[] Output, bool Rewriting)> ReadThroughAsync(byte[] input, int chunk)
    {
        var pipe = new Pipe();
        var reader = new Http2AuthorityReader(pipe.Reader);
        var writer = Task.Run(async () =>
        {
            for (var i = 0; i < input.Length; i += chunk)
            {
                await pipe.Writer.WriteAsync(input.AsMemory(i, Math.Min(chunk, input.Length - i)));
            }

            await pipe.Writer.CompleteAsync();
        });
        var output = new List<byte>();
        var http2 = input.AsSpan().StartsWith(PrefaceSniffer.Preface);
        var prefaceRead = false;
        while (true)
        {
            var read = await reader.ReadAsync();
            var consumed = read.IsCompleted ? read.Buffer.Length : Consumable(read.Buffer, http2, ref prefaceRead);
            output.AddRange(read.Buffer.Slice(0, consumed).ToArray());
            reader.AdvanceTo(read.Buffer.GetPosition(consumed), read.Buffer.End);
            if (read.IsCompleted)
            {
                break;
            }
        }

        var rewriting = reader.Rewriting;
        await reader.CompleteAsync();
        await writer;
        return ([.. output], rewriting);
    }

    /// <summary>What Kestrel would consume of <paramref name="buffer"/>: HTTP/2, the client preface once it is whole, then
    /// whole frames only (a partial frame stays for the next read); anything else, all of it. Consuming a partial frame
    /// the reader has not looked at yet is not something Kestrel does (and made these tests depend on how the writer's
    /// chunks met the reads).</summary>
    private static long Consumable(ReadOnlySequence<byte> buffer, bool http2, ref bool prefaceRead)
    {
        if (!http2)
        {
            return buffer.Length;
        }

        long at = 0;
        if (!prefaceRead)
        {
            if (buffer.Length < PrefaceSniffer.Preface.Length)
            {
                return 0;
            }

            at = PrefaceSniffer.Preface.Length;
            prefaceRead = true;
        }

        while (buffer.Length - at >= 9)
        {
            var header = buffer.Slice(at, 3).ToArray();
            var frame = 9 + ((header[0] << 16) | (header[1] << 8) | header[2]);
            if (buffer.Length - at < frame)
            {
                break;
            }

            at += frame;
        }

        return at;
    }

    /// <summary>:authority as a literal with incremental indexing of the static name (index 1), raw string.</summary>
    private static byte[] Literal(string value) => [0x41, (byte)value.Length, .. Encoding.ASCII.GetBytes(value)];

    private static byte[] Headers(int stream, byte[] block) => Frame(0x1, 0x4 | 0x1, stream, block);

    private static byte[] Frame(byte type, byte flags, int stream, byte[] payload)
        => [(byte)(payload.Length >> 16), (byte)(payload.Length >> 8), (byte)payload.Length, type, flags, (byte)(stream >> 24), (byte)(stream >> 16), (byte)(stream >> 8), (byte)stream, .. payload];
}
