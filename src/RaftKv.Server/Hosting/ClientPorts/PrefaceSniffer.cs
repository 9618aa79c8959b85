using System.Buffers;
using System.IO.Pipelines;
using Microsoft.AspNetCore.Connections;

namespace RaftKv.Server.Hosting.ClientPorts;

/// <summary>
/// The connection middleware of a cleartext client port (GRPC_PORT, ETCD_PORT): etcd serves gRPC (HTTP/2 with prior
/// knowledge) and its JSON gateway (HTTP/1.1, <c>curl -X POST …/v3/kv/put</c>) on one port, and Kestrel cannot tell
/// them apart without TLS's ALPN. This looks at the first bytes of each connection, once: the HTTP/2 client preface
/// (<see cref="Preface"/>, RFC 9113 §3.4) → the endpoint's own HTTP/2 pipeline (<c>next</c>, unchanged: gRPC pays one
/// read of the first segment and a 24-byte compare per connection, nothing per frame); anything else → Kestrel's
/// HTTP/1.1 (<see cref="Http1HandOff"/>) on the same connection. Nothing is consumed: the chosen protocol reads the
/// bytes from the start. The decision is made as soon as the bytes diverge from the preface (a request line decides
/// at its first byte), so a client may dribble the preface one byte at a time. A connection that neither completes
/// nor leaves the preface within <see cref="Deadline"/>, or closes before deciding, is closed (Debug log).
/// </summary>
public sealed class PrefaceSniffer(Http1HandOff http1, TimeSpan deadline, ILogger logger)
{
    /// <summary>HTTP/2's client connection preface.</summary>
    public static ReadOnlySpan<byte> Preface => "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"u8;

    /// <summary>How long a new connection has to show which protocol it speaks.</summary>
    public TimeSpan Deadline { get; } = deadline;

    /// <summary>The middleware for <c>ListenOptions.Use</c>: <paramref name="http2"/> is the endpoint's HTTP/2 pipeline.</summary>
    public ConnectionDelegate Wrap(ConnectionDelegate http2) => connection => OnConnectionAsync(connection, http2);

    /// <summary>Reads <paramref name="input"/> until its first bytes decide, consuming nothing (the reader is left
    /// positioned at the connection's first byte). Cancellation (the deadline) throws.</summary>
    public static async ValueTask<SniffResult> SniffAsync(PipeReader input, CancellationToken cancel)
    {
        ArgumentNullException.ThrowIfNull(input);
        while (true)
        {
            var read = await input.ReadAsync(cancel).ConfigureAwait(false);
            var buffer = read.Buffer;
            var verdict = Judge(buffer);
            if (verdict is not null)
            {
                input.AdvanceTo(buffer.Start);
                return verdict.Value;
            }

            input.AdvanceTo(buffer.Start, buffer.End); // examined all: wait for more
            if (read.IsCompleted || read.IsCanceled)
            {
                return SniffResult.Closed;
            }
        }
    }

    /// <summary>Http2 once the preface is complete, Http1 at the first byte that differs from it, null while the bytes
    /// so far are a prefix of it.</summary>
    public static SniffResult? Judge(ReadOnlySequence<byte> buffer)
    {
        var length = (int)Math.Min(buffer.Length, Preface.Length);
        Span<byte> head = stackalloc byte[24];
        buffer.Slice(0, length).CopyTo(head);
        if (!head[..length].SequenceEqual(Preface[..length]))
        {
            return SniffResult.Http1;
        }

        return length == Preface.Length ? SniffResult.Http2 : null;
    }

    private async Task OnConnectionAsync(ConnectionContext connection, ConnectionDelegate http2)
    {
        SniffResult result;
        using (var timeout = new CancellationTokenSource(Deadline))
        {
            try
            {
                result = await SniffAsync(connection.Transport.Input, timeout.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                logger.LogDebug("Client connection {Id} from {Remote} sent no request within {Deadline}: closed", connection.ConnectionId, connection.RemoteEndPoint, Deadline);
                connection.Abort(new ConnectionAbortedException($"no request within {Deadline}"));
                return;
            }
        }

        switch (result)
        {
            case SniffResult.Http2:
                await http2(connection).ConfigureAwait(false);
                break;
            case SniffResult.Http1:
                await http1.RunAsync(connection).ConfigureAwait(false);
                break;
            default:
                logger.LogDebug("Client connection {Id} from {Remote} closed before its first request", connection.ConnectionId, connection.RemoteEndPoint);
                break;
        }
    }
}
