using System.Net;
using Grpc.Core;
using Grpc.Net.Client;
using RaftKv.Server.Configuration;
using RaftKv.Server.Pipeline;
using RaftKv.Server.Security;

namespace RaftKv.Server.Etcd.Gateway;

/// <summary>
/// The gateway's channel to this node's own gRPC port: every gateway request becomes an ordinary etcd gRPC call
/// that runs the whole gRPC pipeline (operation metrics and etcd's error table, a learner's refusals,
/// authentication and authorization, follower → leader forwarding; docs/architecture.md, "JSON gateway"), so the
/// gateway re-implements none of it. Plaintext: the loopback address of the bind host; TLS: the advertised host
/// (the name the node's certificate carries) through <see cref="LeaderTransport"/>. Under CLIENT_CERT_AUTH that
/// handshake presents the node's own certificate: the call carries <see cref="GrpcAuthInterceptor.GatewayHeader"/>
/// so its CN never identifies the gateway's caller (only the caller's <c>Authorization</c> token does).
/// One HTTP/2 connection pool for the node's lifetime; no message size limit (the server's own limits apply).
/// </summary>
public sealed class GatewayLoopback : IDisposable
{
    private readonly GrpcChannel _channel;

    public GatewayLoopback(ServerConfig config, LeaderTransport transport)
    {
        ArgumentNullException.ThrowIfNull(config);
        ArgumentNullException.ThrowIfNull(transport);
        var host = transport.Scheme == "https" ? config.AdvertiseHost : LoopbackOf(config.BindHost);
        Address = $"{transport.Scheme}://{host}:{config.GrpcPort}";
        _channel = GrpcChannel.ForAddress(Address, new GrpcChannelOptions
        {
            HttpHandler = transport.CreateHandler(),
            DisposeHttpClient = true,
            MaxReceiveMessageSize = null,
            MaxSendMessageSize = null,
        });
        Invoker = _channel.CreateCallInvoker();
    }

    /// <summary>This node's gRPC address as the gateway dials it.</summary>
    public string Address { get; }

    public CallInvoker Invoker { get; }

    /// <summary>The options of the call made for <paramref name="context"/>: its <c>Authorization</c> header (etcd's
    /// gateway passes the token there, bare), the gateway marker, and the request's abort as cancellation.</summary>
    public static CallOptions Options(HttpContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var headers = new Metadata { { GrpcAuthInterceptor.GatewayHeader, "1" } };
        var authorization = context.Request.Headers.Authorization.ToString();
        if (authorization.Length > 0)
        {
            headers.Add("authorization", authorization);
        }

        return new CallOptions(headers, cancellationToken: context.RequestAborted);
    }

    public void Dispose() => _channel.Dispose();

    private static string LoopbackOf(string bindHost)
    {
        if (!IPAddress.TryParse(bindHost, out var ip))
        {
            return bindHost;
        }

        if (ip.Equals(IPAddress.Any))
        {
            return "127.0.0.1";
        }

        if (ip.Equals(IPAddress.IPv6Any))
        {
            return "[::1]";
        }

        return ip.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6 ? $"[{ip}]" : ip.ToString();
    }
}
