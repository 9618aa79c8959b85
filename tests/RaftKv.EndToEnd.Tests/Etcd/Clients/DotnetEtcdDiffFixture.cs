using System.Text.Json;
using dotnet_etcd;
using Google.Protobuf;
using Grpc.Core;
using RaftKv.EndToEnd.Tests.Etcd.Differential;

namespace RaftKv.EndToEnd.Tests.Etcd.Clients;

/// <summary>One real etcd 3.4 and one single RaftKv node, both empty, per test class (the differential tests of
/// the dotnet-etcd client, DotnetEtcd*SurfaceTests): a dotnet-etcd <see cref="EtcdClient"/> on each, and the normal form
/// of an outcome that both must give identically. The classes mirror every write on both, so revisions stay equal.</summary>
public sealed class DotnetEtcdDiffFixture : IAsyncLifetime
{
    private EtcdServer? _etcd;
    private LocalCluster? _raftkv;

    internal EtcdClient Etcd { get; private set; } = null!;

    internal EtcdClient RaftKv { get; private set; } = null!;

    internal string EtcdEndpoint => _etcd!.Endpoint;

    internal string RaftKvEndpoint => _raftkv!.Nodes[0].Grpc;

    internal string Logs => $"etcd:\n{Tail(_etcd?.Log())}\nraftkv:\n{Tail(_raftkv?.Nodes[0].Log())}";

    public async Task InitializeAsync()
    {
        _etcd = new EtcdServer(TimeSpan.FromMilliseconds(500));
        _raftkv = new LocalCluster(1, new Dictionary<string, string> { ["WATCH_PROGRESS_NOTIFY_INTERVAL"] = "0.5" });
        _raftkv.StartAll();
        await _etcd.WaitReadyAsync(TimeSpan.FromSeconds(60));
        await _raftkv.WaitForLeaderAsync();
        await _raftkv.WaitReadyAsync();
        Etcd = NewClient(EtcdEndpoint);
        RaftKv = NewClient(RaftKvEndpoint);
    }

    /// <summary>A dotnet-etcd client on one endpoint, anonymous or with a user (its constructor that authenticates).</summary>
    internal static EtcdClient NewClient(string endpoint, string? user = null, string? password = null) => user is null
        ? new EtcdClient("http://" + endpoint, configureChannelOptions: o => o.Credentials = ChannelCredentials.Insecure)
        : new EtcdClient("http://" + endpoint, user, password!, configureChannelOptions: o => o.Credentials = ChannelCredentials.Insecure);

    /// <summary>A client of <paramref name="user"/> on each side (dotnet-etcd's constructor with a user and password).</summary>
    internal (EtcdClient Etcd, EtcdClient RaftKv) Clients(string user, string password) =>
        (NewClient(EtcdEndpoint, user, password), NewClient(RaftKvEndpoint, user, password));

    /// <summary>Runs <paramref name="call"/> on etcd, then on RaftKv, and fails (with both answers) unless their normal
    /// forms (<see cref="Outcome{T}"/>) are equal. Returns etcd's normal form.</summary>
    internal Task<string> SameAsync<T>(string what, Func<EtcdClient, Task<T>> call, Func<T, T>? normalize = null) =>
        SameAsync(what, (Etcd, RaftKv), call, normalize);

    /// <summary>The same with other clients (e.g. of a user, <see cref="Clients"/>) on the two sides.</summary>
    internal async Task<string> SameAsync<T>(string what, (EtcdClient Etcd, EtcdClient RaftKv) clients, Func<EtcdClient, Task<T>> call, Func<T, T>? normalize = null)
    {
        var etcd = await Outcome(() => call(clients.Etcd), normalize);
        var raftkv = await Outcome(() => call(clients.RaftKv), normalize);
        Assert.True(etcd == raftkv, $"{what} diverged\n  etcd:   {etcd}\n  raftkv: {raftkv}");
        return etcd;
    }

    /// <summary>The normal form of an outcome: a protobuf response as JSON with every <c>ResponseHeader</c>'s cluster_id,
    /// member_id and raft_term cleared (at any depth), anything else as JSON; an <see cref="RpcException"/> as its status code
    /// and etcd's text, any other exception as its type and message.</summary>
    internal static async Task<string> Outcome<T>(Func<Task<T>> call, Func<T, T>? normalize = null)
    {
        try
        {
            var result = await call();
            result = normalize is null ? result : normalize(result);
            return Format(result);
        }
        catch (RpcException e)
        {
            return $"ERROR {e.StatusCode}: {e.Status.Detail}";
        }
        catch (Exception e) when (e is not Xunit.Sdk.XunitException)
        {
            return $"EXCEPTION {e.GetType().Name}: {e.Message}";
        }
    }

    internal static string Format(object? result) => result switch
    {
        IMessage m => JsonFormatter.Default.Format(ClearHeaders(m)),
        _ => JsonSerializer.Serialize(result),
    };

    /// <summary>A copy of <paramref name="message"/> whose response headers keep only the revision.</summary>
    internal static IMessage ClearHeaders(IMessage message)
    {
        var copy = message.Descriptor.Parser.ParseFrom(message.ToByteString());
        HeaderScrub.Clear(copy);
        return copy;
    }

    public Task DisposeAsync()
    {
        Etcd?.Dispose();
        RaftKv?.Dispose();
        _etcd?.Dispose();
        _raftkv?.Dispose();
        return Task.CompletedTask;
    }

    private static string Tail(string? log) => log is null ? string.Empty : log[^Math.Min(4000, log.Length)..];
}
