using RaftKv.Client;

namespace RaftKv.Cli;

/// <summary>The global options of one kvctl invocation, parsed and checked (<see cref="GlobalOptions.Read"/>).</summary>
public sealed record KvctlSettings(
    IReadOnlyList<string> Endpoints,
    ClientTls? Tls,
    string? User,
    string? Password,
    OutputFormat Format,
    TimeSpan CommandTimeout,
    string? HttpEndpoint);
