using System.IO.Pipelines;
using System.Text;
using Microsoft.AspNetCore.Connections;
using Microsoft.Extensions.Logging.Abstractions;
using RaftKv.Server.Hosting.ClientPorts;

namespace RaftKv.Server.Tests;

/// <summary>The client ports' protocol sniff over a real <see cref="Pipe"/>: split and dribbled prefaces, short reads,
/// EOF, garbage, and the middleware's deadline and hand-off (docs/architecture.md, "Client ports").</summary>
public sealed class PrefaceSnifferTests
{
    private static readonly byte[] Preface = PrefaceSniffer.Preface.ToArray();

    [Fact]
    public async Task WholePrefaceIsHttp2AndNothingIsConsumed()
    {
        var pipe = new Pipe();
        await pipe.Writer.WriteAsync(Preface.Concat(new byte[] { 0, 0, 0, 4 }).ToArray());
        Assert.Equal(SniffResult.Http2, await PrefaceSniffer.SniffAsync(pipe.Reader, CancellationToken.None));
        Assert.Equal(Preface.Length + 4, await ReadAllBufferedAsync(pipe.Reader));
    }

    [Theory]
    [InlineData(1)]
    [InlineData(3)]
    [InlineData(23)]
    public async Task PrefaceSplitAcrossWritesIsStillHttp2(int firstPart)
    {
        var pipe = new Pipe();
        await pipe.Writer.WriteAsync(Preface.AsMemory(0, firstPart));
        var sniff = PrefaceSniffer.SniffAsync(pipe.Reader, CancellationToken.None).AsTask();
        await Task.Yield();
        Assert.False(sniff.IsCompleted); // a prefix of the preface decides nothing
        await pipe.Writer.WriteAsync(Preface.AsMemory(firstPart));
        Assert.Equal(SniffResult.Http2, await sniff);
        Assert.Equal(Preface.Length, await ReadAllBufferedAsync(pipe.Reader));
    }

    [Fact]
    public async Task PrefaceOneByteAtATimeIsHttp2()
    {
        var pipe = new Pipe(new PipeOptions(readerScheduler: PipeScheduler.Inline)); // the sniff reads after each byte
        var sniff = PrefaceSniffer.SniffAsync(pipe.Reader, CancellationToken.None).AsTask();
        foreach (var b in Preface)
        {
            Assert.False(sniff.IsCompleted);
            await pipe.Writer.WriteAsync(new[] { b });
        }

        Assert.Equal(SniffResult.Http2, await sniff);
        Assert.Equal(Preface.Length, await ReadAllBufferedAsync(pipe.Reader));
    }

    [Theory]
    [InlineData("POST /v3/kv/put HTTP/1.1\r\n")]
    [InlineData("G")] // decided at the first byte, without waiting for 24
    [InlineData("PRI * HTTP/1.1\r\n\r\n")] // diverges at byte 10
    [InlineData("\u0016\u0003\u0001\u0000")] // a TLS ClientHello on the cleartext port: HTTP/1.1 answers 400
    public async Task AnythingElseIsHttp1AsSoonAsItDiverges(string first)
    {
        var pipe = new Pipe();
        var bytes = Encoding.Latin1.GetBytes(first);
        await pipe.Writer.WriteAsync(bytes);
        Assert.Equal(SniffResult.Http1, await PrefaceSniffer.SniffAsync(pipe.Reader, CancellationToken.None));
        Assert.Equal(bytes.Length, await ReadAllBufferedAsync(pipe.Reader));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(3)] // "PRI" then EOF
    [InlineData(23)]
    public async Task EofBeforeTheBytesDecideIsClosed(int sent)
    {
        var pipe = new Pipe();
        await pipe.Writer.WriteAsync(Preface.AsMemory(0, sent));
        await pipe.Writer.CompleteAsync();
        Assert.Equal(SniffResult.Closed, await PrefaceSniffer.SniffAsync(pipe.Reader, CancellationToken.None));
    }

    [Fact]
    public async Task GarbageThenEofIsStillHttp1()
    {
        var pipe = new Pipe();
        await pipe.Writer.WriteAsync("GET"u8.ToArray());
        await pipe.Writer.CompleteAsync();
        Assert.Equal(SniffResult.Http1, await PrefaceSniffer.SniffAsync(pipe.Reader, CancellationToken.None));
    }

    [Fact]
    public async Task MiddlewareRoutesHttp2ToNextAndClosesASilentConnectionAtTheDeadline()
    {
        var handOff = new Http1HandOff();
        var http1Connections = 0;
        handOff.Capture(_ => { http1Connections++; return Task.CompletedTask; });
        var sniffer = new PrefaceSniffer(handOff, TimeSpan.FromMilliseconds(200), NullLogger.Instance);
        var http2Connections = 0;
        var middleware = sniffer.Wrap(_ => { http2Connections++; return Task.CompletedTask; });

        var (h2, h2Peer) = Connection();
        await h2Peer.Output.WriteAsync(Preface);
        await middleware(h2);
        var (h1, h1Peer) = Connection();
        await h1Peer.Output.WriteAsync("GET /health HTTP/1.1\r\n"u8.ToArray());
        await middleware(h1);
        Assert.Equal((1, 1), (http2Connections, http1Connections));

        var (silent, _) = Connection();
        await middleware(silent).WaitAsync(TimeSpan.FromSeconds(30)); // returns at the deadline
        await Task.Delay(Timeout.Infinite, silent.ConnectionClosed).ContinueWith(_ => { }, TaskScheduler.Default).WaitAsync(TimeSpan.FromSeconds(30)); // and aborts
        Assert.Equal((1, 1), (http2Connections, http1Connections));
    }

    [Fact]
    public async Task HandOffBeforeItIsBoundClosesTheConnection()
    {
        var (connection, _) = Connection();
        await new Http1HandOff().RunAsync(connection);
        await Task.Delay(Timeout.Infinite, connection.ConnectionClosed).ContinueWith(_ => { }, TaskScheduler.Default).WaitAsync(TimeSpan.FromSeconds(30));
    }

    private static (ConnectionContext Connection, IDuplexPipe Peer) Connection()
    {
        var input = new Pipe();
        var output = new Pipe();
        var transport = new DuplexPipe(input.Reader, output.Writer);
        var peer = new DuplexPipe(output.Reader, input.Writer);
        return (new DefaultConnectionContext(Guid.NewGuid().ToString("N"), transport, peer), peer);
    }

    private static async Task<long> ReadAllBufferedAsync(PipeReader reader)
    {
        var read = await reader.ReadAsync(); // returns at once: the sniff left everything unconsumed
        var length = read.Buffer.Length;
        reader.AdvanceTo(read.Buffer.End);
        return length;
    }

    private sealed class DuplexPipe(PipeReader input, PipeWriter output) : IDuplexPipe
    {
        public PipeReader Input { get; } = input;

        public PipeWriter Output { get; } = output;
    }
}
