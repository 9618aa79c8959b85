using System.Text.Json;

namespace RaftKv.EndToEnd.Tests.Kvctl;

/// <summary>
/// The real kvctl binary against a real node: every key-space command with <c>-w json</c> (parsed), <c>-w table</c>,
/// etcdctl-like flags (<c>--prefix</c>, <c>--limit</c>, <c>--rev</c>, <c>--keys-only</c>), endpoint failover.
/// </summary>
public sealed class KvctlJsonTests
{
    private static JsonElement Json(string text) => JsonDocument.Parse(text).RootElement;

    [Fact]
    public async Task KeySpaceCommandsAnswerParseableJson()
    {
        using var node = SharedNode.Get();
        var ep = node.Grpc;
        var put1 = await KvctlRunner.RunAsync(ep, "-w", "json", "put", "kj/a", "one");
        Assert.True(put1.Code == 0, put1.Err);
        var rev1 = Json(put1.Out).GetProperty("revision").GetInt64();
        Assert.True(rev1 > 0);
        Assert.Equal(0, (await KvctlRunner.RunAsync(ep, "put", "kj/a", "two")).Code);
        Assert.Equal(0, (await KvctlRunner.RunAsync(ep, "put", "kj/b", "bee")).Code);
        Assert.Equal(0, (await KvctlRunner.RunAsync(ep, "put", "kj/c", "sea")).Code);

        var get = Json((await KvctlRunner.RunAsync(ep, "get", "kj/a", "-w", "json")).Out);
        Assert.Equal(1, get.GetProperty("count").GetInt32());
        var kv = get.GetProperty("kvs")[0];
        Assert.Equal("kj/a", kv.GetProperty("key").GetString());
        Assert.Equal("two", kv.GetProperty("value").GetString());
        Assert.Equal(2, kv.GetProperty("version").GetInt64());
        Assert.Contains(kv.GetProperty("tier").GetString(), new[] { "memory", "disk" }); // the shared node may flush meanwhile

        // --rev reads the MVCC history (etcd Range): the first value, as of the first put's revision.
        var old = await KvctlRunner.RunAsync(ep, "get", "kj/a", "--rev", rev1.ToString(System.Globalization.CultureInfo.InvariantCulture), "-w", "json");
        Assert.True(old.Code == 0, old.Err);
        Assert.Equal("one", Json(old.Out).GetProperty("kvs")[0].GetProperty("value").GetString());
        var oldSimple = await KvctlRunner.RunAsync(ep, "get", "kj/a", "--rev", rev1.ToString(System.Globalization.CultureInfo.InvariantCulture));
        Assert.StartsWith("one", oldSimple.Out, StringComparison.Ordinal);

        var prefix = Json((await KvctlRunner.RunAsync(ep, "get", "kj/", "--prefix", "--limit", "2", "-w", "json")).Out);
        Assert.Equal(2, prefix.GetProperty("count").GetInt32());
        Assert.True(prefix.GetProperty("more").GetBoolean());
        var keys = (await KvctlRunner.RunAsync(ep, "get", "kj/", "--prefix", "--keys-only")).Out;
        Assert.Equal(["kj/a", "kj/b", "kj/c", "# 3 keys"], keys.Split('\n', StringSplitOptions.RemoveEmptyEntries));

        var table = await KvctlRunner.RunAsync(ep, "scan", "kj/", "-w", "table");
        Assert.Equal(0, table.Code);
        Assert.Contains("KEY", table.Out, StringComparison.Ordinal);
        Assert.Contains("bee", table.Out, StringComparison.Ordinal);
        Assert.Contains("3 keys", table.Out, StringComparison.Ordinal);

        var txn = Json((await KvctlRunner.RunAsync(ep, "txn", "kj/b", "bee", "bumble", "-w", "json")).Out);
        Assert.True(txn.GetProperty("succeeded").GetBoolean());
        var missing = await KvctlRunner.RunAsync(ep, "get", "kj/none", "-w", "json");
        Assert.Equal(1, missing.Code);
        Assert.Equal(0, Json(missing.Out).GetProperty("count").GetInt32());

        var status = Json((await KvctlRunner.RunAsync(ep, "status", "-w", "json")).Out);
        Assert.Equal("leader", status.GetProperty("role").GetString());
        Assert.True(status.GetProperty("applied_index").GetInt64() > 0);
        var members = Json((await KvctlRunner.RunAsync(ep, "member", "list", "-w", "json")).Out).GetProperty("members");
        Assert.Equal(1, members.GetArrayLength());
        Assert.True(members[0].GetProperty("leader").GetBoolean());
        Assert.Contains("available", (await KvctlRunner.RunAsync(ep, "member", "list", "-w", "table")).Out, StringComparison.Ordinal);

        var flush = Json((await KvctlRunner.RunAsync(ep, "flush", "-w", "json")).Out);
        Assert.True(flush.GetProperty("durable_index").GetInt64() > 0);
        var compact = Json((await KvctlRunner.RunAsync(ep, "compact", "-w", "json")).Out);
        Assert.True(compact.TryGetProperty("tables_after", out _));
        var compaction = await KvctlRunner.RunAsync(ep, "compaction", rev1.ToString(System.Globalization.CultureInfo.InvariantCulture), "-w", "json");
        Assert.True(compaction.Code == 0, compaction.Err);
        Assert.Equal(rev1, Json(compaction.Out).GetProperty("compact_revision").GetInt64());

        var deleted = Json((await KvctlRunner.RunAsync(ep, "delete", "kj/", "--prefix", "-w", "json")).Out);
        Assert.Equal(3, deleted.GetProperty("deleted").GetInt64());
    }

    [Fact]
    public async Task EndpointsFailOverToTheNextOne()
    {
        using var node = SharedNode.Get();
        var dead = $"127.0.0.1:{ServerProcess.FreePort()}";
        var put = await KvctlRunner.RunAsync($"{dead},{node.Grpc}", "put", "kf/x", "y");
        Assert.True(put.Code == 0, put.Err);
        var get = await KvctlRunner.RunAsync($"{dead},{node.Grpc}", "-w", "json", "get", "kf/x");
        Assert.True(get.Code == 0, get.Err);
        Assert.Equal("y", Json(get.Out).GetProperty("kvs")[0].GetProperty("value").GetString());
        var rev = await KvctlRunner.RunAsync($"{dead},{node.Grpc}", "get", "kf/x", "--rev", "1");
        Assert.NotEqual(3, rev.Code); // the etcd path fails over too (the revision may be compacted: 4, or absent: 1)
    }

    [Fact]
    public async Task WatchStreamsJsonLinesUntilInterrupted()
    {
        using var node = SharedNode.Get();
        var ep = node.Grpc;
        var put = Json((await KvctlRunner.RunAsync(ep, "-w", "json", "put", "kw/1", "first")).Out).GetProperty("revision").GetInt64();
        await KvctlRunner.RunAsync(ep, "put", "kw/2", "second");

        // From a revision the watch replays the history, one JSON object per line; the stream runs until killed.
        var psi = new System.Diagnostics.ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in new[] { RepoPaths.KvctlDll, "--endpoints", ep, "-w", "json", "watch", "kw/", "--prefix", "--rev", put.ToString(System.Globalization.CultureInfo.InvariantCulture) })
        {
            psi.ArgumentList.Add(a);
        }

        using var p = System.Diagnostics.Process.Start(psi)!;
        try
        {
            var first = await p.StandardOutput.ReadLineAsync().WaitAsync(TimeSpan.FromSeconds(60));
            var second = await p.StandardOutput.ReadLineAsync().WaitAsync(TimeSpan.FromSeconds(60));
            Assert.Equal("PUT", Json(first!).GetProperty("type").GetString());
            Assert.Equal("kw/1", Json(first!).GetProperty("kv").GetProperty("key").GetString());
            Assert.Equal("second", Json(second!).GetProperty("kv").GetProperty("value").GetString());
        }
        finally
        {
            p.Kill(entireProcessTree: true);
        }
    }
}
