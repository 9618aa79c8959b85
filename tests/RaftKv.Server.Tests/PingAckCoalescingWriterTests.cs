using System.Buffers;
using System.IO.Pipelines;
using RaftKv.Server.Hosting.ClientPorts;

namespace RaftKv.Server.Tests;

/// <summary>
/// <see cref="PingAckCoalescingWriter"/> over a real <see cref="Pipe"/> (the transport's output): grpc-go's BDP ping
/// ACKs wait for the next flush, in order; every other byte flushes at once, as Kestrel asked.
/// </summary>
public sealed class PingAckCoalescingWriterTests
{
    // A keep-alive PING ACK (grpc-go sends zeros) and a HEADERS frame's first bytes: anything but a BDP ping ACK.
    private static readonly byte[] KeepAliveAck = [0, 0, 8, 0x6, 0x1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0];
    private static readonly byte[] Response = [0, 0, 3, 0x1, 0x4, 0, 0, 0, 1, 0x88, 0x5f, 0x8b];

    [Fact]
    public async Task ABdpPingAckWaitsForTheNextFlushAndLeavesFirst()
    {
        var pipe = new Pipe();
        var writer = new PingAckCoalescingWriter(pipe.Writer);
        var before = PingAckCoalescingWriter.DeferredTotal;

        // As Kestrel writes a PING ACK: the 9-byte header, then the payload, then a flush.
        var ack = PingAckCoalescingWriter.BdpPingAck.ToArray();
        writer.Write(ack.AsSpan(0, 9));
        writer.Write(ack.AsSpan(9));
        await writer.FlushAsync();
        Assert.False(pipe.Reader.TryRead(out _), "the ACK alone is not flushed");
        Assert.True(PingAckCoalescingWriter.DeferredTotal > before);

        writer.Write(Response);
        await writer.FlushAsync();
        byte[] expected = [.. ack, .. Response];
        Assert.Equal(expected, await ReadAllAsync(pipe.Reader));
    }

    [Fact]
    public async Task OtherPingAcksAndOtherFramesFlushAtOnce()
    {
        foreach (var frame in new[] { KeepAliveAck, Response, PingAckCoalescingWriter.BdpPingAck[..16].ToArray() })
        {
            var pipe = new Pipe();
            var writer = new PingAckCoalescingWriter(pipe.Writer);
            writer.Write(frame);
            await writer.FlushAsync();
            Assert.Equal(frame, await ReadAllAsync(pipe.Reader));
        }
    }

    [Fact]
    public async Task ABdpPingAckWrittenAfterOtherBytesFlushesWithThem()
    {
        var pipe = new Pipe();
        var writer = new PingAckCoalescingWriter(pipe.Writer);
        var ack = PingAckCoalescingWriter.BdpPingAck.ToArray();
        writer.Write(Response);
        writer.Write(ack);
        await writer.FlushAsync();
        byte[] expected = [.. Response, .. ack];
        Assert.Equal(expected, await ReadAllAsync(pipe.Reader));

        writer.Write(ack); // tracking starts again after a flush
        await writer.FlushAsync();
        Assert.False(pipe.Reader.TryRead(out _));
    }

    [Fact]
    public async Task AtMostMaxDeferredAcksWait()
    {
        var pipe = new Pipe();
        var writer = new PingAckCoalescingWriter(pipe.Writer);
        var ack = PingAckCoalescingWriter.BdpPingAck.ToArray();
        for (var i = 0; i < PingAckCoalescingWriter.MaxDeferredAcks; i++)
        {
            writer.Write(ack);
            await writer.FlushAsync();
            Assert.False(pipe.Reader.TryRead(out _), $"ACK {i + 1} waits");
        }

        writer.Write(ack);
        await writer.FlushAsync();
        var all = await ReadAllAsync(pipe.Reader);
        Assert.Equal((PingAckCoalescingWriter.MaxDeferredAcks + 1) * ack.Length, all.Length);
    }

    [Fact]
    public async Task ADeferredAckLeavesWhenTheWriterCompletes()
    {
        var pipe = new Pipe();
        var writer = new PingAckCoalescingWriter(pipe.Writer);
        writer.Write(PingAckCoalescingWriter.BdpPingAck);
        await writer.FlushAsync();
        await writer.CompleteAsync();
        var read = await pipe.Reader.ReadAsync();
        Assert.Equal(PingAckCoalescingWriter.BdpPingAck.ToArray(), read.Buffer.ToArray());
        Assert.True(read.IsCompleted);
    }

    private static async Task<byte[]> ReadAllAsync(PipeReader reader)
    {
        var read = await reader.ReadAsync();
        var bytes = read.Buffer.ToArray();
        reader.AdvanceTo(read.Buffer.End);
        return bytes;
    }
}
