using System.Buffers.Binary;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Cryptography.X509Certificates;
using System.Text;

namespace RaftKv.EndToEnd.Tests.Etcd;

/// <summary>
/// A client that ends its TLS connection (close_notify, then FIN) while a watch is open gets the connection closed with
/// FIN, as etcd's server closes it — not reset. Kestrel aborts such a connection and, since .NET 8, aborts with RST
/// unless its FinOnError switch is on (Program.cs): the npm etcd3 client's own suite ("caps watchers revisions") runs
/// its calls through a TLS proxy that ends both sides this way, and the RST reached the proxy as an uncaught
/// ECONNRESET. The HTTP/2 bytes are written by hand, so the test controls the half-close; each try is a new connection
/// (without the switch most tries were reset, not all).
/// </summary>
public sealed class ClientPortHalfCloseTests
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task AClientEndingItsTlsConnectionWithAWatchOpenGetsFinNotReset()
    {
        using var kit = new TlsTestKit();
        var cert = kit.Issue(kit.Ca, "node1");
        using var c = new LocalCluster(1, null, _ => kit.NodeEnv(cert.CertFile, cert.KeyFile, kit.CaFile, false), TlsTestKit.Client([kit.Ca.Certificate]));
        c.StartAll();
        var node = await c.WaitForLeaderAsync();
        await c.WaitReadyAsync();
        for (var i = 0; i < 5; i++)
        {
            Assert.Equal("FIN", await HalfCloseWithWatchOpenAsync(node.GrpcPort, kit.Ca.Certificate));
        }
    }

    /// <summary>Opens a Watch over TLS (ALPN h2), waits for the created response, sends close_notify and FIN, and reads
    /// the socket to its end: "FIN" when the server closes it, "RST" when it resets it.</summary>
    private static async Task<string> HalfCloseWithWatchOpenAsync(int port, X509Certificate2 ca)
    {
        using var cancel = new CancellationTokenSource(Deadline);
        using var socket = new Socket(SocketType.Stream, ProtocolType.Tcp);
        await socket.ConnectAsync("127.0.0.1", port, cancel.Token);
        await using var ssl = new SslStream(new NetworkStream(socket, ownsSocket: false));
        var trust = new X509ChainPolicy { TrustMode = X509ChainTrustMode.CustomRootTrust, RevocationMode = X509RevocationMode.NoCheck };
        trust.CustomTrustStore.Add(ca);
        await ssl.AuthenticateAsClientAsync(
            new SslClientAuthenticationOptions { TargetHost = "127.0.0.1", ApplicationProtocols = [SslApplicationProtocol.Http2], CertificateChainPolicy = trust },
            cancel.Token);
        Assert.Equal(SslApplicationProtocol.Http2, ssl.NegotiatedApplicationProtocol);

        await ssl.WriteAsync(WatchRequestBytes(), cancel.Token);
        await ReadUntilDataFrameAsync(ssl, cancel.Token); // the watch's created response: the stream is open

        await ssl.ShutdownAsync(); // close_notify
        socket.Shutdown(SocketShutdown.Send); // FIN
        var buffer = new byte[4096];
        try
        {
            while (await socket.ReceiveAsync(buffer, SocketFlags.None, cancel.Token) > 0)
            {
            }

            return "FIN";
        }
        catch (SocketException e) when (e.SocketErrorCode == SocketError.ConnectionReset)
        {
            return "RST";
        }
    }

    /// <summary>HTTP/2's preface, an empty SETTINGS, HEADERS of <c>POST /etcdserverpb.Watch/Watch</c> (HPACK literals)
    /// and a DATA frame with one gRPC message: <c>WatchRequest{create_request{key: "a"}}</c>; the stream stays open.</summary>
    private static byte[] WatchRequestBytes()
    {
        var headers = new List<byte> { 0x83, 0x87 }; // :method POST, :scheme https (static table)
        Literal(headers, 4, null, "/etcdserverpb.Watch/Watch"); // :path
        Literal(headers, 1, null, "127.0.0.1"); // :authority
        Literal(headers, 0, "content-type", "application/grpc");
        Literal(headers, 0, "te", "trailers");
        byte[] message = [0x0a, 0x03, 0x0a, 0x01, (byte)'a'];
        var grpc = new byte[5 + message.Length];
        BinaryPrimitives.WriteInt32BigEndian(grpc.AsSpan(1), message.Length);
        message.CopyTo(grpc, 5);

        var bytes = new List<byte>("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"u8.ToArray());
        bytes.AddRange(Frame(0x4, 0, 0, []));
        bytes.AddRange(Frame(0x1, 0x4, 1, [.. headers])); // END_HEADERS
        bytes.AddRange(Frame(0x0, 0, 1, grpc));
        return [.. bytes];
    }

    /// <summary>An HPACK literal without indexing: a name by static index, or a new name when the index is 0.</summary>
    private static void Literal(List<byte> block, byte nameIndex, string? name, string value)
    {
        block.Add(nameIndex);
        if (name is not null)
        {
            block.Add((byte)name.Length);
            block.AddRange(Encoding.ASCII.GetBytes(name));
        }

        block.Add((byte)value.Length);
        block.AddRange(Encoding.ASCII.GetBytes(value));
    }

    private static byte[] Frame(byte type, byte flags, int stream, byte[] payload)
    {
        var frame = new byte[9 + payload.Length];
        frame[0] = (byte)(payload.Length >> 16);
        frame[1] = (byte)(payload.Length >> 8);
        frame[2] = (byte)payload.Length;
        frame[3] = type;
        frame[4] = flags;
        BinaryPrimitives.WriteInt32BigEndian(frame.AsSpan(5), stream);
        payload.CopyTo(frame, 9);
        return frame;
    }

    /// <summary>Reads the server's frames until a DATA frame on stream 1.</summary>
    private static async Task ReadUntilDataFrameAsync(Stream stream, CancellationToken cancel)
    {
        var header = new byte[9];
        while (true)
        {
            await stream.ReadExactlyAsync(header, cancel);
            var length = (header[0] << 16) | (header[1] << 8) | header[2];
            var payload = new byte[length];
            await stream.ReadExactlyAsync(payload, cancel);
            if (header[3] == 0x0 && (BinaryPrimitives.ReadInt32BigEndian(header.AsSpan(5)) & 0x7fffffff) == 1)
            {
                return;
            }
        }
    }
}
