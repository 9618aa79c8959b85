using RaftKv.EndToEnd.Tests.Etcd;

namespace RaftKv.Dashboard.Tests;

/// <summary>A <see cref="DashboardCluster"/> with auth enabled through etcdctl: <c>root</c> (password
/// <see cref="RootPassword"/>), <c>reader</c> (<see cref="ReaderPassword"/>, no role: it may read no key) and
/// <c>viewer</c> (<see cref="ViewerPassword"/>, role <c>signed-reader</c>: read only, on the prefix <c>signed/</c>).</summary>
public sealed class AuthDashboardCluster : IAsyncLifetime
{
    public const string RootPassword = "root-Pw-19";
    public const string ReaderPassword = "reader-Pw-19";
    public const string ViewerPassword = "viewer-Pw-19";

    public DashboardCluster Inner { get; } = new();

    public async Task InitializeAsync()
    {
        await Inner.InitializeAsync();
        var node = await Inner.LeaderAsync();
        await Inner.PutAsync(node.Http, "signed/in", "{\"visible\":true}"); // before auth: no credentials needed yet
        var ep = Inner.Endpoints;
        (await Etcdctl.RunAsync(ep, "user", "add", "root:" + RootPassword, "--interactive=false")).Ok();
        (await Etcdctl.RunAsync(ep, "user", "add", "reader:" + ReaderPassword, "--interactive=false")).Ok();
        (await Etcdctl.RunAsync(ep, "role", "add", "signed-reader")).Ok();
        (await Etcdctl.RunAsync(ep, "role", "grant-permission", "signed-reader", "read", "signed/", "--prefix=true")).Ok();
        (await Etcdctl.RunAsync(ep, "user", "add", "viewer:" + ViewerPassword, "--interactive=false")).Ok();
        (await Etcdctl.RunAsync(ep, "user", "grant-role", "viewer", "signed-reader")).Ok();
        (await Etcdctl.RunAsync(ep, "auth", "enable")).Ok();
    }

    public Task DisposeAsync() => Inner.DisposeAsync();
}
