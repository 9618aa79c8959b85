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
        while (true)
        {
            var read = await reader.ReadAsync();
            foreach (var segment in read.Buffer)
            {
                output.AddRange(segment.ToArray());
            }

            reader.AdvanceTo(read.Buffer.End);
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

    /// <summary>:authority as a literal with incremental indexing of the static name (index 1), raw string.</summary>
    private static byte[] Literal(string value) => [0x41, (byte)value.Length, .. Encoding.ASCII.GetBytes(value)];

    private static byte[] Headers(int stream, byte[] block) => Frame(0x1, 0x4 | 0x1, stream, block);

    private static byte[] Frame(byte type, byte flags, int stream, byte[] payload)
        => [(byte)(payload.Length >> 16), (byte)(payload.Length >> 8), (byte)payload.Length, type, flags, (byte)(stream >> 24), (byte)(stream >> 16), (byte)(stream >> 8), (byte)stream, .. payload];
}
