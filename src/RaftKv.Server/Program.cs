using Microsoft.AspNetCore.Server.Kestrel.Core;
using RaftKv.Replication;
using RaftKv.Replication.Api;
using RaftKv.Server.Configuration;
using RaftKv.Server.Dashboard;
using RaftKv.Server.Etcd;
using RaftKv.Server.Grpc;
using RaftKv.Server.Hosting;
using RaftKv.Server.Hosting.ClientPorts;
using RaftKv.Server.Http;
using RaftKv.Server.Observability;
using RaftKv.Server.Pipeline;
using RaftKv.Server.Security;
using RaftKv.Tiering;

if (args is ["restore", .. var restoreArgs])
{
    return await RaftKv.Server.Backup.RestoreCommand.RunAsync(restoreArgs, Console.Out, Console.Error);
}

if (Usage.WantsHelp(args))
{
    Usage.Write(Console.Out);
    return 0;
}

if (Usage.WantsVersion(args))
{
    Console.Out.WriteLine($"raftkv {Usage.Version}");
    return 0;
}

ServerConfig config;
ServerTls tls;
try
{
    config = ConfigLoader.Load(args, Environment.GetEnvironmentVariables().Cast<System.Collections.DictionaryEntry>()
        .ToDictionary(e => (string)e.Key, e => (string?)e.Value, StringComparer.Ordinal));
    tls = ServerTls.Load(config); // reads and checks every certificate file: a bad one is an error naming it
}
catch (ConfigException e)
{
    Console.Error.WriteLine($"raftkv: configuration error: {e.Message}");
    return 2;
}

// No file watching: the default host reloads appsettings*.json on change by watching the content root
// recursively, and with the default DATA_DIR (./data) that means an inotify event for every WAL and
// SSTable write (measured: 7 % of a node's CPU under a put load). Configuration comes from ConfigLoader.
Environment.SetEnvironmentVariable("DOTNET_hostBuilder__reloadConfigOnChange", "false");
// A connection Kestrel aborts (its HTTP/2 peer closed it with streams open, a protocol error, a deadline) ends with
// FIN, as etcd's (Go's) server ends one, not with the RST Kestrel's socket transport sends since .NET 8: a client or
// TCP proxy that half-closes a connection (TLS close_notify + FIN) with a watch open would otherwise read ECONNRESET
// (docs/architecture.md, "Client ports"). Kestrel's own switch; read once, when the transport's options are first built.
AppContext.SetSwitch("Microsoft.AspNetCore.Server.Kestrel.FinOnError", true);
var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { ContentRootPath = AppContext.BaseDirectory });
// A route parameter that does not bind (?target=abc for a number) throws BadHttpRequestException, which the
// pipeline's error mapping answers as 400 JSON (Pipeline/ApiError), instead of an empty 400.
builder.Services.Configure<Microsoft.AspNetCore.Routing.RouteHandlerOptions>(o => o.ThrowOnBadRequest = true);
builder.Logging.AddSimpleConsole(o => o.SingleLine = true);
builder.Logging.AddFilter("Microsoft.AspNetCore", LogLevel.Warning);
// ASP.NET Core starts an Activity and a logging scope for every request whenever its hosting logger is
// enabled at any level, although it logs only per-request lines at Information/Debug there (filtered out
// above): 1.7 % of the leader's allocated bytes per etcd put plus their CPU (BENCHMARKS.md, "CPU per
// operation"). Off, so requests carry no Activity. Startup failures still surface as the exception.
builder.Logging.AddFilter("Microsoft.AspNetCore.Hosting.Diagnostics", LogLevel.None);
builder.Logging.AddFilter("System.Net.Http", LogLevel.Warning);
// The client ports serve gRPC and HTTP/1.1 (etcd's JSON gateway, curl) on one port, as etcd's client URL does
// (Hosting/ClientPorts/ClientPortListener; docs/architecture.md, "Client ports").
var loggers = LoggerFactory.Create(b => b.AddSimpleConsole(o => o.SingleLine = true).AddFilter("DotNext", LogLevel.Warning));
var clientPorts = new ClientPortListener(tls, loggers);
ClientPortListener.AddTransport(builder.Services);
builder.WebHost.ConfigureKestrel(k =>
{
    var bind = System.Net.IPAddress.Parse(config.BindHost);
    clientPorts.BindHandOff(k); // before the client ports: Kestrel accepts on an endpoint as soon as it is bound
    k.Listen(bind, config.HttpPort, l =>
    {
        // HTTP/2 only through TLS (ALPN); without TLS Kestrel would serve HTTP/1.1 anyway, and warn at every start.
        l.Protocols = tls.Files.ClientTls ? HttpProtocols.Http1AndHttp2 : HttpProtocols.Http1;
        tls.UseHttpsIfEnabled(l);
    });
    clientPorts.Listen(k, bind, config.GrpcPort);
    if (config.EtcdPort > 0)
    {
        clientPorts.Listen(k, bind, config.EtcdPort); // etcd's client port (2379): same services as GRPC_PORT
    }

    k.Limits.MaxRequestBodySize = (config.MaxValueBytes * 2L) + (1 << 20); // JSON/base64 overhead; the node enforces the exact limit
});
builder.WebHost.UseShutdownTimeout(TimeSpan.FromSeconds(20));

TieringOptions? tieringOptions;
try
{
    tieringOptions = NodeLifetime.TieringOptionsFor(config) is { } t
        ? t with { NodePrefix = NodeLifetime.ArchivePrefix(config, ArchiveIdFile.LoadOrCreate(config.DataDir)) }
        : null;
}
catch (Exception e) when (e is IOException or FormatException or UnauthorizedAccessException)
{
    Console.Error.WriteLine($"raftkv: cannot open node: {e.Message}");
    return 1;
}

var objects = tieringOptions is null ? null : new S3ObjectStore(tieringOptions);
tls.AttachLogger(loggers.CreateLogger<ServerTls>());
var hashPeers = new GrpcStateHashPeers(tls.LeaderTransport); // the corruption check's calls to other members
var nodeOptions = config.ToNodeOptions() with
{
    RemoteStore = objects is null ? null : new ObjectStoreTableStore(objects),
    FatalErrorHandler = new ExitOnFatalStorageError(loggers.CreateLogger<ExitOnFatalStorageError>()), // fail-stop: exit 74
    StateHashPeers = hashPeers,
    LeadershipPeers = hashPeers,
    LearnerPeers = hashPeers,
    LeaderReadIndex = hashPeers,
    MembershipPeers = hashPeers,
    SimpleTokenPeers = hashPeers,
    RaftSsl = tls.RaftSsl(),
};
KvNode node;
try
{
    node = await KvNode.CreateAsync(nodeOptions, loggers);
}
catch (Exception e) when (e is IOException or FormatException or InvalidOperationException or UnauthorizedAccessException)
{
    Console.Error.WriteLine($"raftkv: cannot open node: {e.Message}");
    return 1;
}

builder.Services.AddSingleton(config);
builder.Services.AddSingleton(hashPeers);
builder.Services.AddSingleton(tls);
builder.Services.AddSingleton(tls.LeaderTransport);
builder.Services.AddSingleton(node);
builder.Services.AddSingleton<IKvNode>(node);
builder.Services.AddSingleton<ISnapshotSource>(node);
builder.Services.AddSingleton(new TieringSetup(objects, tieringOptions));
builder.Services.AddSingleton<TieringHost>();
builder.Services.AddHostedService<NodeLifetime>();
builder.Services.AddSingleton<RaftKv.Server.Backup.BackupHost>();
builder.Services.AddHostedService(sp => sp.GetRequiredService<RaftKv.Server.Backup.BackupHost>()); // after NodeLifetime: starts after the node
builder.Services.AddSingleton<FollowerLagMonitor>();
builder.Services.AddHostedService(sp => sp.GetRequiredService<FollowerLagMonitor>());
builder.Services.AddHostedService<AutoCompactor>();
builder.Services.AddRaftKvPipeline(config);
builder.Services.AddEtcdApi();
builder.Services.AddDashboard(); // /ui and its read endpoints (Dashboard/DashboardSetup)
builder.Services.ConfigureHttpJsonOptions(o => o.SerializerOptions.PropertyNamingPolicy = System.Text.Json.JsonNamingPolicy.SnakeCaseLower);

var app = builder.Build();
hashPeers.NodeToken = app.Services.GetRequiredService<RaftKv.Server.Security.Auth.AuthGate>().NodeToken; // member-to-member calls with auth on
hashPeers.LearnerToken = config.Auth.LearnerToken.Length > 0 ? config.Auth.LearnerToken : null; // a learner's tail with auth on (LEARNER_TOKEN)
app.UseRaftKvPipeline();

KvHttpApi.Map(app);
StatusHttpApi.Map(app);
CorruptionHttpApi.Map(app);
MembersHttpApi.Map(app);
AuthHttpApi.Map(app);
BackupHttpApi.Map(app);
OperationsHttpApi.Map(app);
app.MapRaftKvMetrics(node, config.EffectiveQuotaBytes, config.MetricsHttpRequests);
app.MapGrpcService<KvGrpcService>();
app.MapGrpcService<ClusterGrpcService>();
app.MapGrpcService<AdminGrpcService>();
app.MapGrpcService<GrpcHealthService>();
app.MapEtcdApi();
app.MapDashboard();

try
{
    await app.RunAsync();
}
catch (Exception e) when (e is IOException or System.Net.Sockets.SocketException or InvalidOperationException or UnauthorizedAccessException)
{
    // A port in use or not ours to bind (Kestrel's AddressInUseException is an InvalidOperationException, DotNext's
    // Raft listener throws the SocketException) and the like: the host already logged it; exit with a message and
    // a code, not an unhandled exception (an abort and a core dump).
    var where = e is System.Net.Sockets.SocketException ? $" (the Raft listener, {nodeOptions.RaftListen})" : string.Empty;
    Console.Error.WriteLine($"raftkv: cannot start: {e.Message}{where}");
    return 1;
}

return 0;
