using System.Diagnostics;

namespace RaftKv.EndToEnd.Tests.Kvctl;

/// <summary>
/// A program in a real terminal: a detached tmux session on its own server socket (<c>tmux -L</c>), driven with
/// <c>send-keys</c> and read with <c>capture-pane -p</c>, as a person would use it. Disposing kills that tmux server.
/// </summary>
internal sealed class TmuxSession : IDisposable
{
    private readonly string _socket = "kvctl-test-" + Guid.NewGuid().ToString("N")[..12];

    private TmuxSession()
    {
    }

    public static bool Available => File.Exists("/usr/bin/tmux") || File.Exists("/usr/local/bin/tmux");

    /// <summary>Starts <paramref name="command"/> (a shell command line) in a 160×50 terminal.</summary>
    public static async Task<TmuxSession> StartAsync(string command)
    {
        var session = new TmuxSession();
        var r = await session.RunAsync("new-session", "-d", "-s", "main", "-x", "160", "-y", "50", command);
        return r.Code == 0 ? session : throw new InvalidOperationException("tmux new-session failed: " + r.Err);
    }

    /// <summary>Types <paramref name="text"/> literally (no key names interpreted).</summary>
    public Task TypeAsync(string text) => RunAsync("send-keys", "-t", "main", "-l", "--", text);

    /// <summary>Presses keys by tmux name: Enter, Up, Down, Tab, C-c, …</summary>
    public Task PressAsync(params string[] keys) => RunAsync(["send-keys", "-t", "main", .. keys]);

    /// <summary>The visible pane, one string (trailing blanks trimmed per line).</summary>
    public async Task<string> ScreenAsync()
    {
        var r = await RunAsync("capture-pane", "-p", "-t", "main");
        return string.Join('\n', r.Out.Split('\n').Select(l => l.TrimEnd()));
    }

    /// <summary>Waits until the screen satisfies <paramref name="condition"/>; fails with the screen shown.</summary>
    public async Task<string> WaitForAsync(Func<string, bool> condition, string what, TimeSpan? timeout = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(60));
        while (true)
        {
            var screen = await ScreenAsync();
            if (condition(screen))
            {
                return screen;
            }

            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"timed out waiting until {what}; the screen:\n{screen}");
            }

            await Task.Delay(Poll.Interval);
        }
    }

    public void Dispose() => RunAsync("kill-server").GetAwaiter().GetResult();

    private async Task<(int Code, string Out, string Err)> RunAsync(params string[] args)
    {
        var psi = new ProcessStartInfo("tmux") { RedirectStandardOutput = true, RedirectStandardError = true };
        psi.ArgumentList.Add("-L");
        psi.ArgumentList.Add(_socket);
        foreach (var a in args)
        {
            psi.ArgumentList.Add(a);
        }

        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        await p.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(30));
        return (p.ExitCode, await stdout, await stderr);
    }
}
