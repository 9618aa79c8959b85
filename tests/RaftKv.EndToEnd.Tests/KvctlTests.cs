namespace RaftKv.EndToEnd.Tests;

public sealed class KvctlTests
{
    private static Task<(int Code, string Out, string Err)> Kvctl(string endpoint, params string[] args)
        => KvctlRunner.RunAsync(endpoint, args);

    [Fact]
    public async Task KvctlCoversTheCommonCommands()
    {
        using var node = SharedNode.Get();
        var ep = node.Grpc;
        Assert.Equal(0, (await Kvctl(ep, "put", "cli/a", "hello")).Code);
        var get = await Kvctl(ep, "get", "cli/a");
        Assert.Equal(0, get.Code);
        Assert.StartsWith("hello", get.Out);
        Assert.Equal(1, (await Kvctl(ep, "get", "cli/missing")).Code);
        Assert.Equal(0, (await Kvctl(ep, "txn", "cli/a", "hello", "world")).Code);
        Assert.Equal(1, (await Kvctl(ep, "txn", "cli/a", "hello", "again")).Code);
        var scan = await Kvctl(ep, "scan", "cli/");
        Assert.Contains("cli/a\tworld", scan.Out);
        Assert.Contains("role leader", (await Kvctl(ep, "status")).Out);
        Assert.Contains("available", (await Kvctl(ep, "members")).Out);
        Assert.Equal(0, (await Kvctl(ep, "flush")).Code);
        Assert.Equal(0, (await Kvctl(ep, "delete", "cli/", "--prefix")).Code);
        var usage = await Kvctl(ep, "frobnicate");
        Assert.Equal(2, usage.Code);
        Assert.Contains("unknown command", usage.Err);
    }
}
