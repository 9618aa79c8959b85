using System.IO.Pipelines;

namespace RaftKv.Server.Hosting.ClientPorts;

/// <summary>
/// The output of an HTTP/2 client connection as Kestrel writes it, with the acknowledgements of grpc-go's
/// bandwidth-delay-product pings sent together with the next thing the connection sends instead of on their own.
/// </summary>
/// <remarks>
/// <para>Why: every grpc-go client (etcdctl, clientv3, Kubernetes, etcd's <c>benchmark</c>) estimates its connection's
/// bandwidth-delay product by sending a PING whenever data arrives and none is outstanding; with small calls that is
/// one PING per response, i.e. per request. Kestrel answers each with a PING ACK written and flushed on its own: one
/// more send system call, socket-sender wake-up (and TLS record) per request on the server, and one more read on the
/// client (BENCHMARKS.md, "grpc-go's BDP pings"). Those ACKs carry nothing a client waits for — grpc-go only measures
/// the round trip to grow its flow-control window, which calls of a few hundred bytes never do — so a flush whose
/// unflushed bytes are nothing but such ACKs is not passed on: the bytes stay in the transport's pipe, in order, and
/// leave with the next flush (the response to the call the client sent with its PING, normally within the
/// millisecond). An ACK no later flush carries stays unsent: its only effect is that the client sends no further BDP
/// ping on that connection until it gets it.</para>
/// <para>Only grpc-go's BDP ping is recognised, by its fixed payload (<c>{2, 4, 16, 16, 9, 14, 7, 7}</c> in grpc-go's
/// <c>internal/transport/bdp_estimator.go</c>, unchanged since 2017). Every other PING — keep-alive pings, whose
/// answers a client does wait for and times out on, .NET's and other clients' pings — is acknowledged at once, as
/// before. At most <see cref="MaxDeferredAcks"/> ACKs wait; one more is flushed with them.</para>
/// <para>Threading: Kestrel's HTTP/2 frame writer calls this writer only under its own write lock, one call at a time
/// (its <c>ConcurrentPipeWriter</c> on top), so the fields need no lock of their own.</para>
/// </remarks>
public sealed class PingAckCoalescingWriter(PipeWriter inner) : PipeWriter
{
    /// <summary>How many BDP ping ACKs may wait for a flush of something else.</summary>
    public const int MaxDeferredAcks = 4;

    private Memory<byte> _handedOut; // the buffer of the last GetMemory/GetSpan; Advance says how much of it was written
    private int _unflushed;          // bytes advanced since the last flush passed on, while _onlyAcks holds
    private bool _onlyAcks = true;   // every byte advanced since then continues BdpPingAck back to back

    /// <summary>A PING frame with the ACK flag on stream 0 carrying grpc-go's BDP ping payload (RFC 9113 §6.7).</summary>
    public static ReadOnlySpan<byte> BdpPingAck => [0, 0, 8, 0x6, 0x1, 0, 0, 0, 0, 2, 4, 16, 16, 9, 14, 7, 7];

    private static long s_deferred;

    /// <summary>Flushes held back by every such writer of the process (metric <c>raftkv_http2_ping_acks_coalesced_total</c>).</summary>
    public static long DeferredTotal => Interlocked.Read(ref s_deferred);

    public override bool CanGetUnflushedBytes => inner.CanGetUnflushedBytes;

    public override long UnflushedBytes => inner.UnflushedBytes;

    public override Memory<byte> GetMemory(int sizeHint = 0) => _handedOut = inner.GetMemory(sizeHint);

    public override Span<byte> GetSpan(int sizeHint = 0) => (_handedOut = inner.GetMemory(sizeHint)).Span;

    public override void Advance(int bytes)
    {
        if (_onlyAcks && bytes > 0)
        {
            _onlyAcks = _unflushed + bytes <= MaxDeferredAcks * BdpPingAck.Length && ContinuesAcks(_handedOut.Span[..bytes], _unflushed);
            _unflushed += bytes;
        }

        _handedOut = default;
        inner.Advance(bytes);
    }

    public override ValueTask<FlushResult> FlushAsync(CancellationToken cancellationToken = default)
    {
        if (_onlyAcks && _unflushed > 0 && _unflushed % BdpPingAck.Length == 0)
        {
            Interlocked.Increment(ref s_deferred);
            return new ValueTask<FlushResult>(new FlushResult(isCanceled: false, isCompleted: false));
        }

        _unflushed = 0;
        _onlyAcks = true;
        return inner.FlushAsync(cancellationToken);
    }

    public override void CancelPendingFlush() => inner.CancelPendingFlush();

    public override void Complete(Exception? exception = null) => inner.Complete(exception);

    public override ValueTask CompleteAsync(Exception? exception = null) => inner.CompleteAsync(exception);

    /// <summary>True when <paramref name="written"/>, starting <paramref name="offset"/> bytes into a run of
    /// <see cref="BdpPingAck"/> frames, continues that run.</summary>
    private static bool ContinuesAcks(ReadOnlySpan<byte> written, int offset)
    {
        var ack = BdpPingAck;
        for (var i = 0; i < written.Length; i++)
        {
            if (written[i] != ack[(offset + i) % ack.Length])
            {
                return false;
            }
        }

        return true;
    }
}
