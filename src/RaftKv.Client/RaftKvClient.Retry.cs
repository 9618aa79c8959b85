using Grpc.Core;
using Grpc.Net.Client;

namespace RaftKv.Client;

public sealed partial class RaftKvClient
{
    /// <summary>Calls <paramref name="call"/> on the preferred endpoint, retrying retryable failures within the retry
    /// budget; <paramref name="retrying"/> (optional) sees the status of each failed attempt that is retried.</summary>
    private async Task<T> CallAsync<T>(Func<GrpcChannel, CallOptions, Task<T>> call, CancellationToken cancellationToken, Action<StatusCode>? retrying = null)
    {
        var deadline = DateTime.UtcNow + _options.RetryBudget;
        var backoff = _options.InitialBackoff;
        while (true)
        {
            var endpoint = _preferred;
            try
            {
                return await call(Channel(endpoint), new CallOptions(deadline: DateTime.UtcNow + _options.AttemptTimeout, cancellationToken: cancellationToken)).ConfigureAwait(false);
            }
            catch (RpcException e) when (IsRetryable(e) && DateTime.UtcNow < deadline && !cancellationToken.IsCancellationRequested)
            {
                retrying?.Invoke(e.StatusCode);
                var leader = e.Trailers.GetValue(LeaderTrailer);
                _preferred = !string.IsNullOrEmpty(leader) && leader != endpoint ? leader : NextEndpoint(endpoint);
                var jitter = Random.Shared.NextDouble() * backoff.TotalMilliseconds;
                await Task.Delay(TimeSpan.FromMilliseconds((backoff.TotalMilliseconds / 2) + jitter), cancellationToken).ConfigureAwait(false);
                backoff = TimeSpan.FromMilliseconds(Math.Min(backoff.TotalMilliseconds * 2, _options.MaxBackoff.TotalMilliseconds));
            }
        }
    }

    /// <summary>Worth another attempt: unavailability, an unknown outcome, and FAILED_PRECONDITION when it says "not the
    /// leader" — not the refusals that share its status (too many learners, a member move or an auth change refused):
    /// those stand wherever they are retried. The server names its error in the <see cref="CodeTrailer"/> trailer; an
    /// answer without one (an older server, or a proxy) is taken as "not the leader".</summary>
    private static bool IsRetryable(RpcException e) => e.StatusCode switch
    {
        StatusCode.FailedPrecondition => e.Trailers.GetValue(CodeTrailer) is not { } code || code == NotLeaderCode,
        _ => e.StatusCode is StatusCode.Unavailable or StatusCode.DeadlineExceeded or StatusCode.Internal or StatusCode.Unknown,
    };

    private string NextEndpoint(string current)
    {
        if (_endpoints.Count == 1)
        {
            return _endpoints[0];
        }

        var i = Interlocked.Increment(ref _rotation);
        var next = _endpoints[(int)((uint)i % (uint)_endpoints.Count)];
        return next == current ? _endpoints[(int)((uint)(i + 1) % (uint)_endpoints.Count)] : next;
    }
}
