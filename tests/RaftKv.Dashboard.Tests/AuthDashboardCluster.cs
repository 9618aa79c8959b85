using RaftKv.EndToEnd.Tests.Etcd;

namespace RaftKv.Dashboard.Tests;

/// <summary>A <see cref="DashboardCluster"/> with auth enabled through etcdctl: <c>root</c> (password
/// <see cref="RootPassword"/>) and <c>reader</c> (<see cref="ReaderPassword"/>, no role: it may read no key).</summary>
public sealed class AuthDashboardCluster : IAsyncLifetime
{
    public const string RootPassword = "root-Pw-19";
    public const string ReaderPassword = "reader-Pw-19";

    public DashboardCluster Inner { get; } = new();

    public async Task InitializeAsync()
    {
        await Inner.InitializeAsync();
        var node = await Inner.LeaderAsync();
        await Inner.PutAsync(node.Http, "signed/in", "{\"visible\":true}"); // before auth: no credentials needed yet
        var ep = Inner.Endpoints;
        (await Etcdctl.RunAsync(ep, "user", "add", "root:" + RootPassword, "--interactive=false")).Ok();
        (await Etcdctl.RunAsync(ep, "user", "add", "reader:" + ReaderPassword, "--interactive=false")).Ok();
        (await Etcdctl.RunAsync(ep, "auth", "enable")).Ok();
    }

    public Task DisposeAsync() => Inner.DisposeAsync();
}
