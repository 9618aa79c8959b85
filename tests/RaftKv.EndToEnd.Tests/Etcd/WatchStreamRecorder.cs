using System.Collections.Concurrent;
using Grpc.Core;
using Grpc.Net.Client;
using RaftKv.Protocol.Etcd;

namespace RaftKv.EndToEnd.Tests.Etcd;

/// <summary>One etcd Watch stream on its own connection, recording every response per watch id in arrival order.
/// Reading starts with <see cref="StartReading"/> (a test may leave the stream unread to make it slow).</summary>
internal sealed class WatchStreamRecorder : IAsyncDisposable
{
    private readonly GrpcChannel _channel;
    private readonly AsyncDuplexStreamingCall<WatchRequest, WatchResponse> _call;
    private readonly CancellationTokenSource _cts = new();
    private readonly ConcurrentDictionary<long, List<WatchResponse>> _responses = new();
    private readonly SemaphoreSlim _send = new(1, 1);
    private Task _reader = Task.CompletedTask;

    public WatchStreamRecorder(string grpcEndpoint)
    {
        _channel = GrpcChannel.ForAddress("http://" + grpcEndpoint, new GrpcChannelOptions { MaxReceiveMessageSize = 64 << 20 });
        _call = new Watch.WatchClient(_channel).Watch(cancellationToken: _cts.Token);
    }

    /// <summary>Progress responses and refusals (watch id -1).</summary>
    public IReadOnlyList<WatchResponse> Of(long watchId)
    {
        var list = _responses.GetOrAdd(watchId, _ => []);
        lock (list)
        {
            return [.. list];
        }
    }

    public void StartReading() => _reader = ReadAsync();

    public async Task SendAsync(WatchRequest request)
    {
        await _send.WaitAsync();
        try
        {
            await _call.RequestStream.WriteAsync(request);
        }
        finally
        {
            _send.Release();
        }
    }

    public Task CreateAsync(WatchCreateRequest create) => SendAsync(new WatchRequest { CreateRequest = create });

    public Task CancelAsync(long watchId) => SendAsync(new WatchRequest { CancelRequest = new WatchCancelRequest { WatchId = watchId } });

    /// <summary>Waits until <paramref name="done"/> holds, failing with <paramref name="what"/> after the deadline
    /// (or if the stream ended).</summary>
    public async Task WaitAsync(Func<bool> done, TimeSpan deadline, Func<string> what)
    {
        var until = DateTime.UtcNow + deadline;
        while (!done())
        {
            if (DateTime.UtcNow > until || _reader.IsFaulted)
            {
                throw new TimeoutException(what() + (_reader.Exception is { } e ? " (stream failed: " + e.InnerException?.Message + ")" : string.Empty));
            }

            await Task.Delay(Poll.Interval);
        }
    }

    private async Task ReadAsync()
    {
        try
        {
            while (await _call.ResponseStream.MoveNext(_cts.Token))
            {
                var r = _call.ResponseStream.Current;
                var list = _responses.GetOrAdd(r.WatchId, _ => []);
                lock (list)
                {
                    list.Add(r);
                }
            }
        }
        catch (RpcException) when (_cts.IsCancellationRequested)
        {
        }
        catch (OperationCanceledException) when (_cts.IsCancellationRequested)
        {
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _cts.CancelAsync();
        try
        {
            await _reader;
        }
        catch (RpcException)
        {
        }

        _call.Dispose();
        _channel.Dispose();
        _cts.Dispose();
        _send.Dispose();
    }
}
