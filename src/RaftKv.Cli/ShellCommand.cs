using System.CommandLine;
using System.CommandLine.Parsing;

namespace RaftKv.Cli;

/// <summary>
/// <c>kvctl shell</c>: a REPL running kvctl commands ("get k", "put k v", "member list", …) with the global options
/// the shell was started with (<c>kvctl --endpoints … shell</c>). On a terminal it edits lines with
/// <see cref="LineEditor"/> (↑/↓ history, Tab completion) and keeps history in <see cref="ShellHistory"/>; with
/// redirected input it reads lines as a script. A failing command prints its error and "(exit N)", and the shell
/// goes on; Ctrl-C stops a running command (e.g. a watch). <c>exit</c>, <c>quit</c> or Ctrl-D leave; exit code 0.
/// </summary>
public static class ShellCommand
{
    public const string Prompt = "kvctl> ";

    public static IEnumerable<Command> Create(KvctlApp app)
    {
        var history = new Option<string>("--history") { Description = "history file [env KVCTL_HISTORY; default ~/.kvctl_history]", HelpName = "file" };
        var command = new Command("shell", "Interactive shell: kvctl commands with history (↑/↓) and Tab completion; 'exit' to leave") { history };
        app.HandleLocal(command, async (parse, output, cancel) =>
        {
            if (app.InShell)
            {
                throw new UsageException("already in the shell");
            }

            var globals = parse.Tokens.Where(t => t.Type != TokenType.Command).Select(t => t.Value).ToList();
            RemoveOption(globals, "--history");
            var interactive = !Console.IsInputRedirected && !Console.IsOutputRedirected;
            var store = ShellHistory.Load(parse.GetValue(history) ?? ShellHistory.DefaultPath);
            var editor = new LineEditor(store, line => Complete(app, globals, line));
            app.InShell = true;
            try
            {
                if (interactive)
                {
                    output.Line("kvctl shell: type a command (get k, put k v, member list, help), ↑/↓ for history, Tab to complete, 'exit' to leave.");
                }

                while (!cancel.IsCancellationRequested && (interactive ? editor.ReadLine(Prompt) : await ReadScriptLineAsync(cancel).ConfigureAwait(false)) is { } text)
                {
                    var line = text.Trim();
                    if (line.Length == 0 || line.StartsWith('#'))
                    {
                        continue;
                    }

                    store.Add(line);
                    if (line is "exit" or "quit")
                    {
                        break;
                    }

                    var words = CommandLineParser.SplitCommandLine(line).ToList();
                    if (words is ["kvctl", ..])
                    {
                        words.RemoveAt(0);
                    }

                    if (words is ["help", .. var rest])
                    {
                        words = [.. rest, "--help"];
                    }

                    var code = await app.RunAsync([.. globals, .. words]).ConfigureAwait(false);
                    if (code != 0)
                    {
                        app.Error.WriteLine($"(exit {code})");
                    }

                    await output.Writer.FlushAsync(CancellationToken.None).ConfigureAwait(false);
                }
            }
            finally
            {
                app.InShell = false;
            }

            return ExitCode.Ok;
        });
        return [command];
    }

    /// <summary>The next script line; null at its end or on Ctrl-C (which cancels the shell itself here).</summary>
    private static async Task<string?> ReadScriptLineAsync(CancellationToken cancel)
    {
        try
        {
            return await Console.In.ReadLineAsync(cancel).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            return null;
        }
    }

    /// <summary>Candidates for the last word of <paramref name="line"/>, from System.CommandLine's completions.</summary>
    private static IReadOnlyList<string> Complete(KvctlApp app, List<string> globals, string line)
    {
        var prefix = string.Join(' ', globals.Select(Quote));
        var text = (prefix.Length > 0 ? prefix + " " : string.Empty) + line;
        return app.Root.Parse(text).GetCompletions(text.Length).Select(c => c.InsertText ?? c.Label).ToList();
    }

    private static string Quote(string s) => s.Contains(' ', StringComparison.Ordinal) ? $"\"{s}\"" : s;

    private static void RemoveOption(List<string> args, string name)
    {
        var i = args.IndexOf(name);
        if (i >= 0)
        {
            args.RemoveRange(i, Math.Min(2, args.Count - i));
        }
    }
}
