using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Prometheus;
using RaftKv.Replication;
using RaftKv.Replication.Api;
using RaftKv.Server.Configuration;
using RaftKv.Server.Grpc;
using RaftKv.Server.Hosting;
using RaftKv.Server.Http;
using RaftKv.Tiering;

ServerConfig config;
try
{
    config = ConfigLoader.Load(args, Environment.GetEnvironmentVariables().Cast<System.Collections.DictionaryEntry>()
        .ToDictionary(e => (string)e.Key, e => (string?)e.Value, StringComparer.Ordinal));
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
var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { ContentRootPath = AppContext.BaseDirectory });
builder.Logging.AddSimpleConsole(o => o.SingleLine = true);
builder.Logging.AddFilter("Microsoft.AspNetCore", LogLevel.Warning);
builder.Logging.AddFilter("System.Net.Http", LogLevel.Warning);
builder.WebHost.ConfigureKestrel(k =>
{
    var bind = System.Net.IPAddress.Parse(config.BindHost);
    k.Listen(bind, config.HttpPort, l => l.Protocols = HttpProtocols.Http1AndHttp2);
    k.Listen(bind, config.GrpcPort, l => l.Protocols = HttpProtocols.Http2);
    k.Limits.MaxRequestBodySize = (config.MaxValueBytes * 2L) + (1 << 20); // JSON/base64 overhead; the node enforces the exact limit
});
builder.WebHost.UseShutdownTimeout(TimeSpan.FromSeconds(20));

var loggers = LoggerFactory.Create(b => b.AddSimpleConsole(o => o.SingleLine = true).AddFilter("DotNext", LogLevel.Warning));
var tieringOptions = NodeLifetime.TieringOptionsFor(config);
var objects = tieringOptions is null ? null : new S3ObjectStore(tieringOptions);
var nodeOptions = config.ToNodeOptions() with { RemoteStore = objects is null ? null : new ObjectStoreTableStore(objects) };
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
builder.Services.AddSingleton(node);
builder.Services.AddSingleton<IKvNode>(node);
builder.Services.AddSingleton(new TieringSetup(objects, tieringOptions));
builder.Services.AddSingleton<TieringHost>();
builder.Services.AddSingleton<LeaderForwarder>();
builder.Services.AddSingleton<LeaderChannels>();
builder.Services.AddHttpClient("leader", c => c.Timeout = TimeSpan.FromSeconds(10));
builder.Services.AddHostedService<NodeLifetime>();
builder.Services.AddSingleton<FollowerLagMonitor>();
builder.Services.AddHostedService(sp => sp.GetRequiredService<FollowerLagMonitor>());
builder.Services.AddGrpc(o => o.MaxReceiveMessageSize = (config.MaxValueBytes * 2) + (1 << 20));
builder.Services.AddStrictGrpcBinding();
builder.Services.ConfigureHttpJsonOptions(o => o.SerializerOptions.PropertyNamingPolicy = System.Text.Json.JsonNamingPolicy.SnakeCaseLower);

var app = builder.Build();
app.UseExceptionHandler(errors => errors.Run(async context =>
{
    var error = context.Features.Get<IExceptionHandlerFeature>()?.Error ?? new InvalidOperationException("unknown error");
    var result = ApiError.From(error);
    await result.ExecuteAsync(context);
}));
app.UseStatusCodePages(async status =>
{
    if (status.HttpContext.Response.StatusCode == 404 && !status.HttpContext.Response.HasStarted && status.HttpContext.Response.ContentLength is null)
    {
        await ApiError.Result(404, "not_found", $"no route for {status.HttpContext.Request.Method} {status.HttpContext.Request.Path}").ExecuteAsync(status.HttpContext);
    }
    else if (status.HttpContext.Response.StatusCode == 405)
    {
        await ApiError.Result(405, "method_not_allowed", $"{status.HttpContext.Request.Method} is not allowed on {status.HttpContext.Request.Path}").ExecuteAsync(status.HttpContext);
    }
});
app.Use(async (context, next) =>
{
    try
    {
        await next(context);
    }
    catch (Exception e) when (!context.Response.HasStarted && ApiError.Map(e).Status < 500)
    {
        await ApiError.From(e).ExecuteAsync(context); // client errors: a JSON answer, not an "unhandled exception" log
    }
});
app.Use(async (context, next) =>
{
    var path = context.Request.Path.Value ?? string.Empty;
    if (!path.StartsWith("/kv", StringComparison.Ordinal))
    {
        await next(context);
        return;
    }

    var op = context.Request.Method.ToLowerInvariant();
    using (RaftKv.Server.Metrics.Latency.WithLabels("http", op).NewTimer())
    {
        await next(context);
    }

    RaftKv.Server.Metrics.Operations.WithLabels("http", op, context.Response.StatusCode < 400 ? "ok" : context.Response.StatusCode < 500 ? "client_error" : "error").Inc();
});
RaftKv.Server.Metrics.Register(node, app.Services.GetRequiredService<FollowerLagMonitor>());

KvHttpApi.Map(app);
StatusHttpApi.Map(app);
app.MapMetrics("/metrics");
app.MapGrpcService<KvGrpcService>();
app.MapGrpcService<ClusterGrpcService>();
app.MapGrpcService<AdminGrpcService>();

await app.RunAsync();
return 0;
