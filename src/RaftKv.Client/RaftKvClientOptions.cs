namespace RaftKv.Client;

/// <summary>Client behaviour: retry budget, backoff and TLS.</summary>
public sealed record RaftKvClientOptions
{
    /// <summary>Total time a call may spend retrying across leader changes.</summary>
    public TimeSpan RetryBudget { get; init; } = TimeSpan.FromSeconds(20);

    /// <summary>Deadline of a single attempt.</summary>
    public TimeSpan AttemptTimeout { get; init; } = TimeSpan.FromSeconds(5);

    public TimeSpan InitialBackoff { get; init; } = TimeSpan.FromMilliseconds(50);

    public TimeSpan MaxBackoff { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>TLS (https) to every endpoint; null = plaintext unless an endpoint is given as https://.</summary>
    public ClientTls? Tls { get; init; }

    /// <summary>
    /// Per-call credentials (e.g. an etcd auth <c>token</c> header, as kvctl's <c>--user</c> sets) added to every
    /// call on every endpoint, plaintext channels included; null = none.
    /// </summary>
    public Grpc.Core.CallCredentials? CallCredentials { get; init; }

    /// <summary>Wraps each channel's HTTP handler (the tests' fault injection: a response lost after the server acted);
    /// null = the handler as is.</summary>
    internal Func<HttpMessageHandler, HttpMessageHandler>? WrapHandler { get; init; }
}
