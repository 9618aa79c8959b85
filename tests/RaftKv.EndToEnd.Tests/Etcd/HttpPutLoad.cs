using System.Net.Http.Json;

namespace RaftKv.EndToEnd.Tests.Etcd;

/// <summary>
/// A sequential put load over the HTTP API (<c>PUT /kv/load/NNNNNN</c>) against a set of members (a follower
/// forwards to the leader). A write that gets no 200 is retried like a client would, on the next member, a few
/// times; one that never succeeds is recorded in <see cref="Failures"/>. Runs until disposed.
/// </summary>
internal sealed class HttpPutLoad : IAsyncDisposable
{
    private const int Attempts = 8;
    private readonly HttpClient _http;
    private readonly Func<IReadOnlyList<string>> _targets;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _loop;
    private long _acknowledged;

    /// <param name="http">The client.</param>
    /// <param name="targets">The members' HTTP base addresses, asked before each write (the test changes the set).</param>
    public HttpPutLoad(HttpClient http, Func<IReadOnlyList<string>> targets)
    {
        _http = http;
        _targets = targets;
        _loop = Task.Run(RunAsync);
    }

    /// <summary>Writes acknowledged so far (the last one is load/{Acknowledged - 1}).</summary>
    public long Acknowledged => Interlocked.Read(ref _acknowledged);

    /// <summary>Writes that failed every attempt, with the last error.</summary>
    public List<string> Failures { get; } = [];

    public static string Key(long i) => $"load/{i:D6}";

    /// <summary>Completes once <paramref name="more"/> further writes were acknowledged.</summary>
    public Task WaitForMoreAsync(long more, TimeSpan timeout)
    {
        var target = Acknowledged + more;
        return Eventually.TrueAsync(() => Acknowledged >= target || _loop.IsCompleted, timeout, $"{more} more writes of the load are acknowledged");
    }

    public async ValueTask DisposeAsync()
    {
        if (!_stop.IsCancellationRequested)
        {
            await _stop.CancelAsync();
        }

        try
        {
            await _loop;
        }
        catch (OperationCanceledException) when (_stop.IsCancellationRequested)
        {
            // stopped mid-write: that write is neither acknowledged nor failed
        }
    }

    private async Task RunAsync()
    {
        var token = _stop.Token;
        for (long i = 0; !token.IsCancellationRequested; i++)
        {
            string? error = null;
            for (var attempt = 0; attempt < Attempts && !token.IsCancellationRequested; attempt++)
            {
                var targets = _targets();
                var target = targets[(int)((i + attempt) % targets.Count)];
                try
                {
                    using var r = await _http.PutAsJsonAsync($"{target}/kv/{Key(i)}", new { value = $"v{i}" }, token);
                    if (r.IsSuccessStatusCode)
                    {
                        error = null;
                        break;
                    }

                    error = $"{target}: {(int)r.StatusCode} {await r.Content.ReadAsStringAsync(token)}";
                }
                catch (Exception e) when (e is HttpRequestException or TaskCanceledException && !token.IsCancellationRequested)
                {
                    error = $"{target}: {e.Message}";
                }

                await Task.Delay(Poll.Interval, token).ContinueWith(_ => { }, TaskScheduler.Default);
            }

            if (token.IsCancellationRequested)
            {
                return;
            }

            if (error is not null)
            {
                lock (Failures)
                {
                    Failures.Add($"{Key(i)}: {error}");
                }
            }
            else
            {
                Interlocked.Exchange(ref _acknowledged, i + 1);
            }
        }
    }
}
