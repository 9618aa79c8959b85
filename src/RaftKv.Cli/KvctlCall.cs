using System.CommandLine;

namespace RaftKv.Cli;

/// <summary>One running command: its parse result, connection, output and cancellation (Ctrl-C).</summary>
public sealed record KvctlCall(ParseResult Parse, KvctlConnection Connection, Output Output, CancellationToken Cancel)
{
    public RaftKv.Client.RaftKvClient Client => Connection.Client;

    public T? Get<T>(Option<T> option) => Parse.GetValue(option);

    public T Get<T>(Argument<T> argument) => Parse.GetValue(argument)!;
}
