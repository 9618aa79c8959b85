using System.Globalization;
using System.Text;
using System.Text.Json;

namespace RaftKv.EndToEnd.Tests.Kvctl;

/// <summary>
/// Long work with progress on stderr: <c>load</c> (bulk load from JSON lines), <c>snapshot save</c> and
/// <c>snapshot status</c> (local verification; a corrupt file is refused with exit 1), <c>compact</c> (the server's
/// progress, polled).
/// </summary>
public sealed class KvctlLongWorkTests
{
    [Fact]
    public async Task LoadSaveAndVerify()
    {
        using var node = SharedNode.Get();
        using var dir = new TempDir();
        var file = Path.Combine(dir.Path, "keys.jsonl");
        var lines = new StringBuilder();
        for (var i = 0; i < 300; i++)
        {
            lines.Append(CultureInfo.InvariantCulture, $$"""{"key":"kl/{{i:D4}}","value":"value {{i}}"}""").Append('\n');
        }

        lines.Append("\n{\"key\":\"kl/b64\",\"value\":\"/w==\",\"encoding\":\"base64\"}\n");
        lines.Append("{\"key\":\"a2wv/w==\",\"key_encoding\":\"base64\",\"value\":\"binary key\"}\n"); // key "kl/" + 0xFF
        await File.WriteAllTextAsync(file, lines.ToString());
        var load = await KvctlRunner.RunAsync(node.Grpc, "load", "--file", file);
        Assert.True(load.Code == 0, load.Err);
        Assert.Contains("loaded 302 keys", load.Out, StringComparison.Ordinal);
        Assert.Contains("(100%)", load.Err, StringComparison.Ordinal); // progress, as plain lines when stderr is not a terminal
        var scan = JsonDocument.Parse((await KvctlRunner.RunAsync(node.Grpc, "-w", "json", "get", "kl/", "--prefix")).Out).RootElement;
        Assert.Equal(302, scan.GetProperty("count").GetInt32());
        var b64 = scan.GetProperty("kvs").EnumerateArray().Single(k => k.GetProperty("key").GetString() == "kl/b64");
        Assert.Equal("base64", b64.GetProperty("encoding").GetString());
        Assert.Equal("/w==", b64.GetProperty("value").GetString());
        var binaryKey = scan.GetProperty("kvs").EnumerateArray().Single(k => k.TryGetProperty("key_encoding", out _)); // was "kl/\uFFFD": not nameable again
        Assert.Equal(("a2wv/w==", "base64", "binary key"), (binaryKey.GetProperty("key").GetString(), binaryKey.GetProperty("key_encoding").GetString(), binaryKey.GetProperty("value").GetString()));

        var bad = Path.Combine(dir.Path, "bad.jsonl");
        await File.WriteAllTextAsync(bad, "{\"key\":\"kl/ok\",\"value\":\"1\"}\nnot json\n");
        var refused = await KvctlRunner.RunAsync(node.Grpc, "load", "--file", bad, "--concurrency", "1");
        Assert.Equal(2, refused.Code);
        Assert.Contains("line 2", refused.Err, StringComparison.Ordinal);
        Assert.Contains("1 keys were written", refused.Err, StringComparison.Ordinal);

        // compact polls the node's /admin/compact/progress: the finished run's numbers, not a spinner's.
        var compact = await KvctlRunner.RunAsync(node.Grpc, "compact");
        Assert.True(compact.Code == 0, compact.Err);
        Assert.Contains("compacted; tables", compact.Out, StringComparison.Ordinal);
        Assert.Matches(@"(?m)^compact: \d+ / \d+ levels \(100%\)", compact.Err);

        var snap = Path.Combine(dir.Path, "snap.db");
        var save = await KvctlRunner.RunAsync(node.Grpc, "snapshot", "save", snap);
        Assert.True(save.Code == 0, save.Err);
        Assert.Contains("(100%)", save.Err, StringComparison.Ordinal);
        var status = await KvctlRunner.RunArgsAsync(["-w", "json", "snapshot", "status", snap]);
        Assert.True(status.Code == 0, status.Err);
        var info = JsonDocument.Parse(status.Out).RootElement;
        Assert.True(info.GetProperty("raft_index").GetInt64() > 0);
        Assert.Equal(new FileInfo(snap).Length, info.GetProperty("total_bytes").GetInt64());

        var bytes = await File.ReadAllBytesAsync(snap);
        bytes[bytes.Length / 2] ^= 0x40;
        var corrupt = Path.Combine(dir.Path, "corrupt.db");
        await File.WriteAllBytesAsync(corrupt, bytes);
        var refusedSnap = await KvctlRunner.RunArgsAsync(["snapshot", "status", corrupt]);
        Assert.Equal(1, refusedSnap.Code);
        Assert.Contains("checksum", refusedSnap.Err, StringComparison.Ordinal);
        await File.WriteAllBytesAsync(corrupt, bytes[..^700]);
        Assert.Equal(1, (await KvctlRunner.RunArgsAsync(["snapshot", "status", corrupt])).Code);

        var restoreDir = Path.Combine(dir.Path, "restored");
        var restore = await KvctlRunner.RunArgsAsync(["snapshot", "restore", snap, "--raftkv", RepoPaths.ServerDll, "--data-dir", restoreDir, "--node-id", "1", "--peers", "1=127.0.0.1:1"]);
        Assert.True(restore.Code == 0, restore.Out + restore.Err);
        Assert.True(Directory.EnumerateFileSystemEntries(restoreDir).Any());
        Assert.Equal(2, (await KvctlRunner.RunArgsAsync(["snapshot", "restore", snap, "--raftkv", "/nonexistent/raftkv"])).Code);
        Assert.Equal(0, (await KvctlRunner.RunAsync(node.Grpc, "delete", "kl/", "--prefix")).Code);
    }
}
