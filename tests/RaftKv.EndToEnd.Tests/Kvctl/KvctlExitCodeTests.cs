namespace RaftKv.EndToEnd.Tests.Kvctl;

/// <summary>
/// kvctl's exit codes (docs/operations.md, "kvctl"): 2 usage, 3 unavailable, 4 refused by the server, 1 a "no"
/// answer; one line on stderr, never a stack trace. Plus completion scripts and the <c>[suggest]</c> directive.
/// </summary>
public sealed class KvctlExitCodeTests
{
    private static void NoStackTrace(string err) => Assert.DoesNotContain("   at ", err, StringComparison.Ordinal);

    [Theory]
    [InlineData("frobnicate")]
    [InlineData("get")]
    [InlineData("get", "k", "--limit", "many")]
    [InlineData("get", "k", "--limit", "-3")]
    [InlineData("put", "k")]
    [InlineData("put", "", "v")]
    [InlineData("delete", "", "--prefix")]
    [InlineData("delete", "k", "--all")]
    [InlineData("member", "remove", "not-a-number")]
    [InlineData("-w", "yaml", "status")]
    [InlineData("--command-timeout", "soon", "status")]
    [InlineData("completion", "fish")]
    [InlineData("load", "--file", "/nonexistent/keys.jsonl")]
    [InlineData("snapshot", "save", "/nonexistent/dir/snap.db")]
    [InlineData("--cacert", "/nonexistent/ca.pem", "status")]
    public async Task BadInputIsAUsageError(params string[] args)
    {
        using var node = SharedNode.Get();
        var r = await KvctlRunner.RunAsync(node.Grpc, args);
        Assert.True(r.Code == 2, $"{string.Join(' ', args)} → {r.Code}: {r.Out} {r.Err}");
        Assert.StartsWith("kvctl: ", r.Err, StringComparison.Ordinal);
        Assert.Contains("--help", r.Err, StringComparison.Ordinal);
        NoStackTrace(r.Err);
    }

    [Theory]
    [InlineData("garbage")]
    [InlineData("127.0.0.1:notaport")]
    [InlineData("127.0.0.1:99999")]
    [InlineData("ftp://127.0.0.1:2379")]
    [InlineData("127.0.0.1:2379/v3/kv")]
    [InlineData("127.0.0.1:2379,:2379")]
    public async Task AnEndpointThatIsNotHostPortIsAUsageError(string endpoints)
    {
        var r = await KvctlRunner.RunArgsAsync(["--endpoints", endpoints, "status"]);
        Assert.True(r.Code == 2, $"{endpoints} → {r.Code}: {r.Err}");
        Assert.StartsWith("kvctl: --endpoints: ", r.Err, StringComparison.Ordinal);
        NoStackTrace(r.Err);
    }

    [Fact]
    public async Task AnUnreachableEndpointIsUnavailable()
    {
        var dead = $"127.0.0.1:{ServerProcess.FreePort()}";
        foreach (var args in new[] { new[] { "get", "k" }, ["put", "k", "v"], ["status"], ["get", "k", "--rev", "2"], ["move-leader", "2"], ["backup", "list"] })
        {
            var r = await KvctlRunner.RunArgsAsync(["--endpoints", dead, "--command-timeout", "2s", .. args]);
            Assert.True(r.Code == 3, $"{string.Join(' ', args)} → {r.Code}: {r.Err}");
            Assert.Contains(dead, r.Err, StringComparison.Ordinal);
            NoStackTrace(r.Err);
        }
    }

    [Fact]
    public async Task RefusalsAndNoAnswersHaveTheirOwnCodes()
    {
        using var node = SharedNode.Get();
        var backup = await KvctlRunner.RunAsync(node.Grpc, "backup", "now");
        Assert.True(backup.Code == 4, $"{backup.Code}: {backup.Err}");
        Assert.Contains("backups_off", backup.Err, StringComparison.Ordinal);
        var list = await KvctlRunner.RunAsync(node.Grpc, "backup", "list", "-w", "json");
        Assert.Equal(4, list.Code);
        var move = await KvctlRunner.RunAsync(node.Grpc, "move-leader", "99");
        Assert.True(move.Code == 4, $"{move.Code}: {move.Err}");
        var remove = await KvctlRunner.RunAsync(node.Grpc, "member", "remove", "99");
        Assert.True(remove.Code == 4, $"{remove.Code}: {remove.Err}");
        Assert.Equal(1, (await KvctlRunner.RunAsync(node.Grpc, "get", "exit/missing")).Code);
        Assert.Equal(1, (await KvctlRunner.RunAsync(node.Grpc, "delete", "exit/missing")).Code);
        NoStackTrace(backup.Err + move.Err + remove.Err);
    }

    [Fact]
    public async Task CompletionScriptsAndSuggestions()
    {
        var bash = await KvctlRunner.RunArgsAsync(["completion", "bash"]);
        Assert.Equal(0, bash.Code);
        Assert.Contains("complete -o default -F _kvctl_complete kvctl", bash.Out, StringComparison.Ordinal);
        Assert.Contains("[suggest:", bash.Out, StringComparison.Ordinal);
        var zsh = await KvctlRunner.RunArgsAsync(["completion", "zsh"]);
        Assert.Contains("compdef _kvctl_complete kvctl", zsh.Out, StringComparison.Ordinal);

        var commands = await KvctlRunner.RunArgsAsync(["[suggest:9]", "kvctl mem"]);
        Assert.Contains("member", commands.Out.Split('\n', StringSplitOptions.TrimEntries));
        var sub = await KvctlRunner.RunArgsAsync(["[suggest:13]", "kvctl member "]);
        Assert.Contains("list", sub.Out.Split('\n', StringSplitOptions.TrimEntries));
        var formats = await KvctlRunner.RunArgsAsync(["[suggest:15]", "kvctl get k -w "]);
        Assert.Contains("table", formats.Out.Split('\n', StringSplitOptions.TrimEntries));

        // The bash script itself, in a real bash: completing "kvctl sn" offers "snapshot".
        var dll = RepoPaths.KvctlDll;
        var script = $$"""
            kvctl() { dotnet '{{dll}}' "$@"; }
            {{bash.Out.Replace("\"${COMP_WORDS[0]}\"", "kvctl", StringComparison.Ordinal)}}
            COMP_LINE='kvctl sn'; COMP_POINT=8; COMP_WORDS=(kvctl sn); COMP_CWORD=1
            _kvctl_complete
            printf '%s\n' "${COMPREPLY[@]}"
            """;
        var psi = new System.Diagnostics.ProcessStartInfo("bash") { RedirectStandardInput = true, RedirectStandardOutput = true };
        using var p = System.Diagnostics.Process.Start(psi)!;
        await p.StandardInput.WriteAsync(script);
        p.StandardInput.Close();
        var output = await p.StandardOutput.ReadToEndAsync().WaitAsync(TimeSpan.FromSeconds(60));
        Assert.Equal("snapshot", output.Trim());
    }

    [Fact]
    public async Task HelpPerCommand()
    {
        var help = await KvctlRunner.RunArgsAsync(["snapshot", "save", "--help"]);
        Assert.Equal(0, help.Code);
        Assert.Contains("--reference-archived", help.Out, StringComparison.Ordinal);
        Assert.Contains("--endpoints", help.Out, StringComparison.Ordinal);
        var none = await KvctlRunner.RunArgsAsync([]);
        Assert.Equal(2, none.Code);
    }
}
