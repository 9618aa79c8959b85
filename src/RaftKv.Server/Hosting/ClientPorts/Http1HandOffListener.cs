using System.Net;
using Microsoft.AspNetCore.Connections;

namespace RaftKv.Server.Hosting.ClientPorts;

/// <summary>A listener with no socket: <see cref="AcceptAsync"/> waits until unbound, then answers null (Kestrel's
/// "no more connections"). Connections reach <see cref="Http1HandOff"/>'s handler from <see cref="PrefaceSniffer"/>.</summary>
public sealed class Http1HandOffListener(EndPoint endpoint) : IConnectionListener
{
    private readonly TaskCompletionSource _unbound = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public EndPoint EndPoint { get; } = endpoint;

    public async ValueTask<ConnectionContext?> AcceptAsync(CancellationToken cancellationToken = default)
    {
        try
        {
            await _unbound.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
        }

        return null;
    }

    public ValueTask UnbindAsync(CancellationToken cancellationToken = default)
    {
        _unbound.TrySetResult();
        return ValueTask.CompletedTask;
    }

    public ValueTask DisposeAsync()
    {
        _unbound.TrySetResult();
        return ValueTask.CompletedTask;
    }
}
