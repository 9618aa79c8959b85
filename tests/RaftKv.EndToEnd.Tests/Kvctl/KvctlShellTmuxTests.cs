using System.Text.RegularExpressions;

namespace RaftKv.EndToEnd.Tests.Kvctl;

/// <summary>
/// <c>kvctl shell</c> in a real terminal (tmux), as a person uses it: type commands, read the answers on the screen,
/// recall a command with the up arrow and run it again, see a mistake reported without leaving the shell, complete with
/// Tab, stop a watch with Ctrl-C, see <c>compact</c>'s progress bar, leave with <c>exit</c>; the history file keeps the commands for the next session, which recalls them with the up arrow.
/// </summary>
public sealed class KvctlShellTmuxTests
{
    private static int Count(string screen, string text)
    {
        var n = 0;
        for (var i = screen.IndexOf(text, StringComparison.Ordinal); i >= 0; i = screen.IndexOf(text, i + text.Length, StringComparison.Ordinal))
        {
            n++;
        }

        return n;
    }

    [Fact]
    public async Task ShellRunsCommandsWithHistoryInATerminal()
    {
        Assert.True(TmuxSession.Available, "tmux is needed (.ci/run installs it)");
        using var node = SharedNode.Get();
        using var dir = new TempDir();
        var history = Path.Combine(dir.Path, "history");
        var command = $"dotnet '{RepoPaths.KvctlDll}' --endpoints {node.Grpc} shell --history '{history}'; echo SHELL-EXITED-$?; sleep 600";

        using (var tmux = await TmuxSession.StartAsync(command))
        {
            await tmux.WaitForAsync(s => s.Contains("kvctl>", StringComparison.Ordinal), "the prompt shows");
            await tmux.TypeAsync("put shell/greeting hello-from-tmux");
            await tmux.PressAsync("Enter");
            await tmux.WaitForAsync(s => s.Contains("OK version", StringComparison.Ordinal), "the put is acknowledged");

            await tmux.TypeAsync("get shell/greeting");
            await tmux.PressAsync("Enter");
            await tmux.WaitForAsync(s => s.Contains("\nhello-from-tmux\n# version", StringComparison.Ordinal), "the value is shown");

            // Up arrow recalls the last command onto the prompt line; Enter runs it again.
            await tmux.PressAsync("Up");
            await tmux.WaitForAsync(s => s.Split('\n').Last(l => l.Length > 0) == "kvctl> get shell/greeting", "the up arrow recalls 'get'");
            await tmux.PressAsync("Enter");
            await tmux.WaitForAsync(s => Count(s, "\nhello-from-tmux\n# version") == 2, "the recalled command ran");

            // Two up arrows reach the put; edit it (Ctrl-U clears) and write another value.
            await tmux.PressAsync("Up", "Up");
            await tmux.WaitForAsync(s => s.Split('\n').Last(l => l.Length > 0).StartsWith("kvctl> put shell/greeting", StringComparison.Ordinal), "two up arrows recall 'put'");
            await tmux.PressAsync("C-u");
            await tmux.TypeAsync("frobnicate");
            await tmux.PressAsync("Enter");
            await tmux.WaitForAsync(s => s.Contains("unknown command 'frobnicate'", StringComparison.Ordinal) && s.Contains("(exit 2)", StringComparison.Ordinal), "a mistake is reported");

            // Tab completes a command name as far as it is unambiguous ("member", "members"), then a subcommand.
            await tmux.TypeAsync("memb");
            await tmux.PressAsync("Tab");
            await tmux.WaitForAsync(s => s.Split('\n').Last(l => l.Length > 0) == "kvctl> member", "Tab completes 'member'");
            await tmux.TypeAsync(" li");
            await tmux.PressAsync("Tab");
            await tmux.WaitForAsync(s => s.Split('\n').Last(l => l.Length > 0) == "kvctl> member list", "Tab completes 'list'");
            await tmux.TypeAsync("-w table");
            await tmux.PressAsync("Enter");
            await tmux.WaitForAsync(s => s.Contains("available", StringComparison.Ordinal) && s.Contains('╭'), "a member table is drawn");

            // A watch streams a change written by another client; Ctrl-C stops it and the prompt comes back.
            await tmux.TypeAsync("watch shell/ --prefix");
            await tmux.PressAsync("Enter");
            await Eventually.TrueAsync(
                async () =>
                {
                    await KvctlRunner.RunAsync(node.Grpc, "put", "shell/watched", "seen-by-watch");
                    return (await tmux.ScreenAsync()).Contains("seen-by-watch", StringComparison.Ordinal);
                },
                TimeSpan.FromSeconds(60),
                "the watch shows a put from another client");
            await tmux.PressAsync("C-c");
            await tmux.WaitForAsync(s => s.Split('\n').Last(l => l.Length > 0) == "kvctl>", "Ctrl-C ends the watch, not the shell");

            // compact draws the server's progress (polled) as a bar with its numbers, left on the screen when done.
            await tmux.TypeAsync("compact");
            await tmux.PressAsync("Enter");
            await tmux.WaitForAsync(s => s.Contains("compacted; tables", StringComparison.Ordinal) && Regex.IsMatch(s, @"compact: \d+ / \d+ levels.*100%"), "compact shows its progress bar");

            await tmux.TypeAsync("exit");
            await tmux.PressAsync("Enter");
            await tmux.WaitForAsync(s => s.Contains("SHELL-EXITED-0", StringComparison.Ordinal), "the shell exits with 0");
        }

        var saved = await File.ReadAllLinesAsync(history);
        Assert.Equal(["put shell/greeting hello-from-tmux", "get shell/greeting", "frobnicate", "member list -w table", "watch shell/ --prefix", "compact", "exit"], saved);

        // A new session recalls the previous session's commands.
        using (var tmux = await TmuxSession.StartAsync(command))
        {
            await tmux.WaitForAsync(s => s.Contains("kvctl>", StringComparison.Ordinal), "the prompt shows again");
            await tmux.PressAsync("Up", "Up", "Up", "Up");
            await tmux.WaitForAsync(s => s.Split('\n').Last(l => l.Length > 0) == "kvctl> member list -w table", "history survives the session");
            await tmux.PressAsync("C-u");
            await tmux.PressAsync("C-d");
            await tmux.WaitForAsync(s => s.Contains("SHELL-EXITED-0", StringComparison.Ordinal), "Ctrl-D on an empty line leaves");
        }
    }

    [Fact]
    public async Task ShellReadsAScriptFromRedirectedInput()
    {
        using var node = SharedNode.Get();
        using var dir = new TempDir();
        var r = await KvctlRunner.RunArgsAsync(
            ["--endpoints", node.Grpc, "shell", "--history", Path.Combine(dir.Path, "h")],
            "put shell/script 42\n# a comment\nget shell/script\nshell\nexit\nget never/run\n");
        Assert.True(r.Code == 0, r.Err);
        Assert.Contains("OK version", r.Out, StringComparison.Ordinal);
        Assert.Contains("42\n# version", r.Out, StringComparison.Ordinal);
        Assert.Contains("already in the shell", r.Err, StringComparison.Ordinal);
        Assert.DoesNotContain("never/run", r.Out + r.Err, StringComparison.Ordinal);
    }
}
