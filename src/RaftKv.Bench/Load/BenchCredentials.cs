using Grpc.Core;
using Grpc.Net.Client;
using RaftKv.Client;
using RaftKv.Protocol.Etcd;

namespace RaftKv.Bench.Load;

/// <summary>
/// <c>--user name:password</c>: authenticates once (etcd's Auth.Authenticate, which RaftKv serves on the same
/// gRPC port for both APIs) and sends the token with every request as etcd's clients do (metadata
/// <c>token</c>). A request refused with UNAUTHENTICATED (etcd's "invalid auth token": the token expired, or
/// a simple token the node does not hold) re-authenticates once — one caller does it, the others wait and
/// reuse the new token — and is retried once, like clientv3's retry interceptor.
/// With <c>--token-file</c> the first token comes from that file when it holds one (written by an earlier run,
/// e.g. the unrecorded warm-up), and every new token is written to it: a measured run then costs the server no
/// Authenticate (a password hash: a long-lived client pays it once per session, not once per measurement).
/// </summary>
public sealed class BenchCredentials(string endpoint, ClientTls? tls, string user, string password, string? tokenFile = null) : IDisposable
{
    private readonly GrpcChannel _channel = RaftKvDriver.Open(endpoint, tls);
    private readonly SemaphoreSlim _gate = new(1, 1);
    private Metadata? _headers;
    private long _authentications;

    /// <summary>How many Authenticate calls were made (1 unless tokens expired or were refused).</summary>
    public long Authentications => Interlocked.Read(ref _authentications);

    /// <summary>Parses <c>name:password</c> (the password may contain ':').</summary>
    public static (string User, string Password) Parse(string value)
    {
        var colon = value.IndexOf(':', StringComparison.Ordinal);
        return colon <= 0 ? throw new ArgumentException("--user takes name:password") : (value[..colon], value[(colon + 1)..]);
    }

    /// <summary>Calls <paramref name="call"/> with the current token; once more with a fresh one if it was refused.</summary>
    public async Task<T> CallAsync<T>(Func<Metadata?, AsyncUnaryCall<T>> call)
    {
        var headers = Volatile.Read(ref _headers) ?? await RefreshAsync(null).ConfigureAwait(false);
        try
        {
            return await call(headers).ConfigureAwait(false);
        }
        catch (RpcException e) when (e.StatusCode == StatusCode.Unauthenticated)
        {
            return await call(await RefreshAsync(headers).ConfigureAwait(false)).ConfigureAwait(false);
        }
    }

    /// <summary>A new token unless another caller already replaced <paramref name="stale"/>.</summary>
    public async Task<Metadata> RefreshAsync(Metadata? stale)
    {
        await _gate.WaitAsync().ConfigureAwait(false);
        try
        {
            if (Volatile.Read(ref _headers) is { } current && !ReferenceEquals(current, stale))
            {
                return current;
            }

            if (stale is null && tokenFile is not null && File.Exists(tokenFile) && (await File.ReadAllTextAsync(tokenFile).ConfigureAwait(false)).Trim() is { Length: > 0 } saved)
            {
                var reused = new Metadata { { "token", saved } }; // refused (expired, other cluster) → the retry authenticates
                Volatile.Write(ref _headers, reused);
                return reused;
            }

            var r = await new Auth.AuthClient(_channel).AuthenticateAsync(new AuthenticateRequest { Name = user, Password = password }, deadline: DateTime.UtcNow.AddSeconds(10)).ConfigureAwait(false);
            Interlocked.Increment(ref _authentications);
            if (tokenFile is not null)
            {
                await File.WriteAllTextAsync(tokenFile, r.Token).ConfigureAwait(false);
            }

            var headers = new Metadata { { "token", r.Token } };
            Volatile.Write(ref _headers, headers);
            return headers;
        }
        finally
        {
            _gate.Release();
        }
    }

    public void Dispose()
    {
        _channel.Dispose();
        _gate.Dispose();
    }
}
