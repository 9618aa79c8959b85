using System.CommandLine;
using System.CommandLine.Invocation;

namespace RaftKv.Cli;

/// <summary>
/// kvctl: the command tree (System.CommandLine: help per command, <c>[suggest]</c> completions), and one place that
/// runs a command and turns every failure into a line on stderr and an <see cref="ExitCode"/> (never a stack trace
/// for a user mistake). <c>kvctl shell</c> runs its lines through <see cref="RunAsync"/> of the same instance.
/// </summary>
public sealed class KvctlApp
{
    private readonly TextWriter _out;
    private readonly TextWriter _err;
    private CancellationTokenSource? _running;

    public KvctlApp(TextWriter output, TextWriter error)
    {
        _out = output;
        _err = error;
        Root = new RootCommand("kvctl: command-line client of RaftKv (etcdctl-like). 'kvctl <command> --help' for a command's options; 'kvctl shell' for an interactive shell.");
        foreach (var option in Globals.All)
        {
            Root.Add(option);
        }

        foreach (var command in KvCommands.Create(this).Concat(WatchCommand.Create(this)).Concat(ClusterCommands.Create(this))
            .Concat(AdminCommands.Create(this)).Concat(SnapshotCommands.Create(this)).Concat(LoadCommand.Create(this))
            .Concat(CompletionCommand.Create(this)).Concat(ShellCommand.Create(this)))
        {
            Root.Add(command);
        }

        Console.CancelKeyPress += (_, e) =>
        {
            if (_running is { } running)
            {
                e.Cancel = true; // end the command (a watch ends with exit 0), not the process: the shell keeps going
                running.Cancel();
            }
        };
    }

    public GlobalOptions Globals { get; } = new();

    public RootCommand Root { get; }

    /// <summary>True while <c>kvctl shell</c> runs lines (the shell refuses to nest).</summary>
    public bool InShell { get; set; }

    public TextWriter Error => _err;

    /// <summary>Parses and runs one command line; the process exit code.</summary>
    public async Task<int> RunAsync(IReadOnlyList<string> args)
    {
        var result = Root.Parse(args);
        if (result.Action is ParseErrorAction)
        {
            return ParseErrors(result);
        }

        using var cts = new CancellationTokenSource();
        var outer = _running;
        _running = cts;
        try
        {
            return await result.InvokeAsync(new InvocationConfiguration { Output = _out, Error = _err, EnableDefaultExceptionHandler = false, ProcessTerminationTimeout = null }, cts.Token).ConfigureAwait(false);
        }
        catch (Exception e)
        {
            return Report(e, null, result);
        }
        finally
        {
            _running = outer;
        }
    }

    /// <summary>Sets <paramref name="command"/>'s action: connect with the global options, run, report failures.</summary>
    public void Handle(Command command, Func<KvctlCall, Task<ExitCode>> handler)
        => command.SetAction(async (parse, cancel) =>
        {
            KvctlSettings? settings = null;
            try
            {
                settings = Globals.Read(parse);
                using var connection = new KvctlConnection(settings);
                await connection.AuthenticateAsync(cancel).ConfigureAwait(false);
                return (int)await handler(new KvctlCall(parse, connection, new Output(settings.Format, _out), cancel)).ConfigureAwait(false);
            }
            catch (Exception e)
            {
                return Report(e, settings, parse);
            }
        });

    /// <summary>Sets the action of a command that needs no server (output options only).</summary>
    public void HandleLocal(Command command, Func<ParseResult, Output, CancellationToken, Task<ExitCode>> handler)
        => command.SetAction(async (parse, cancel) =>
        {
            try
            {
                return (int)await handler(parse, new Output(Globals.Format(parse), _out), cancel).ConfigureAwait(false);
            }
            catch (Exception e)
            {
                return Report(e, null, parse);
            }
        });

    private int Report(Exception e, KvctlSettings? settings, ParseResult parse)
    {
        var (code, message) = Errors.Describe(e, settings);
        _err.WriteLine($"kvctl: {message}");
        if (code == ExitCode.Usage)
        {
            _err.WriteLine($"run '{CommandPath(parse)} --help' for usage");
        }

        return (int)code;
    }

    private int ParseErrors(ParseResult result)
    {
        if (result.CommandResult.Command == Root && result.UnmatchedTokens.Count > 0)
        {
            _err.WriteLine($"kvctl: unknown command '{result.UnmatchedTokens[0]}'");
        }
        else if (result.CommandResult.Command == Root && result.Errors.Count > 0 && result.Tokens.Count == 0)
        {
            _err.WriteLine("kvctl: no command given");
        }
        else
        {
            foreach (var error in result.Errors)
            {
                _err.WriteLine($"kvctl: {error.Message}");
            }
        }

        _err.WriteLine($"run '{CommandPath(result)} --help' for usage");
        return (int)ExitCode.Usage;
    }

    private static string CommandPath(ParseResult parse)
    {
        var names = new List<string>();
        for (var c = parse.CommandResult; c is not null; c = c.Parent as System.CommandLine.Parsing.CommandResult)
        {
            names.Insert(0, c.Command is RootCommand ? "kvctl" : c.Command.Name);
        }

        return string.Join(' ', names);
    }
}
