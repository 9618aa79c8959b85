using System.CommandLine;
using System.Text;

namespace RaftKv.Cli;

/// <summary><c>watch KEY [--prefix] [--rev N]</c>: stream changes until Ctrl-C (exit 0), one line (or JSON line) per event.</summary>
public static class WatchCommand
{
    public static IEnumerable<Command> Create(KvctlApp app)
    {
        var key = new Argument<string>("key") { Description = "the key (with --prefix: the prefix)" };
        var prefix = new Option<bool>("--prefix") { Description = "every key that starts with <key>" };
        var rev = new Option<long>("--rev", "--from") { Description = "start at this revision, replaying the history from it (0 = from now)", HelpName = "revision" };
        var command = new Command("watch", "Stream changes to a key or prefix until Ctrl-C") { key, prefix, rev };
        app.Handle(command, async call =>
        {
            var from = (ulong)KvCommands.NonNegative(call.Get(rev), "--rev");
            try
            {
                await foreach (var e in call.Client.WatchAsync(Encoding.UTF8.GetBytes(call.Get(key)), call.Get(prefix), from, call.Cancel).ConfigureAwait(false))
                {
                    var kv = KvRecord.From(e.Kv);
                    var type = e.Type == Protocol.V1.WatchEvent.Types.EventType.Put ? "PUT" : "DELETE";
                    if (call.Output.Format == OutputFormat.Json)
                    {
                        call.Output.JsonLine(new { type, kv });
                    }
                    else
                    {
                        call.Output.Line($"{type}\t{kv.Key}\t{kv.Value}\t(v{kv.ModRevision})");
                    }

                    await call.Output.Writer.FlushAsync(call.Cancel).ConfigureAwait(false);
                }
            }
            catch (OperationCanceledException) when (call.Cancel.IsCancellationRequested)
            {
            }
            catch (Grpc.Core.RpcException r) when (r.StatusCode == Grpc.Core.StatusCode.Cancelled && call.Cancel.IsCancellationRequested)
            {
            }

            return ExitCode.Ok;
        });
        return [command];
    }
}
