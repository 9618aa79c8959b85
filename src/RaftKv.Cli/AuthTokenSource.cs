using Grpc.Core;
using Grpc.Net.Client;
using RaftKv.Protocol.Etcd;

namespace RaftKv.Cli;

/// <summary>
/// <c>--user name:password</c>: an etcd auth token from <c>Auth.Authenticate</c> (tried on each endpoint in
/// turn), sent as the <c>token</c> metadata of every call (docs/api.md, "Authentication"). The token is taken
/// again once it is a minute old, well inside the server's AUTH_TOKEN_TTL (300 s by default), so a long
/// <c>kvctl shell</c> or <c>watch</c> keeps working. The password is never printed.
/// </summary>
public sealed class AuthTokenSource(KvctlSettings settings, Func<string, GrpcChannel> plainChannel) : IDisposable
{
    private static readonly TimeSpan Reuse = TimeSpan.FromMinutes(1);
    private readonly SemaphoreSlim _gate = new(1, 1);
    private string? _token;
    private DateTime _taken;

    /// <summary>Call credentials adding the token to each call.</summary>
    public CallCredentials Credentials => CallCredentials.FromInterceptor(async (context, metadata) =>
        metadata.Add("token", await GetAsync(context.CancellationToken).ConfigureAwait(false)));

    /// <summary>The current token, authenticating when there is none or it is a minute old.</summary>
    public async Task<string> GetAsync(CancellationToken cancellationToken)
    {
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (_token is null || DateTime.UtcNow - _taken > Reuse)
            {
                _token = await AuthenticateAsync(cancellationToken).ConfigureAwait(false);
                _taken = DateTime.UtcNow;
            }

            return _token;
        }
        finally
        {
            _gate.Release();
        }
    }

    public void Dispose() => _gate.Dispose();

    private async Task<string> AuthenticateAsync(CancellationToken cancellationToken)
    {
        var request = new AuthenticateRequest { Name = settings.User ?? string.Empty, Password = settings.Password ?? string.Empty };
        RpcException? last = null;
        foreach (var endpoint in settings.Endpoints)
        {
            try
            {
                var deadline = DateTime.UtcNow + settings.CommandTimeout;
                var response = await new Auth.AuthClient(plainChannel(endpoint)).AuthenticateAsync(request, deadline: deadline, cancellationToken: cancellationToken).ConfigureAwait(false);
                return response.Token;
            }
            catch (RpcException e) when (e.StatusCode is StatusCode.Unavailable or StatusCode.DeadlineExceeded or StatusCode.Internal)
            {
                last = e;
            }
            catch (RpcException e) when (e.StatusCode is StatusCode.InvalidArgument or StatusCode.Unauthenticated or StatusCode.FailedPrecondition or StatusCode.PermissionDenied)
            {
                throw new KvctlException(ExitCode.Auth, $"authentication as '{settings.User}' failed: {Errors.Detail(e)}");
            }
        }

        throw last ?? new RpcException(new Status(StatusCode.Unavailable, "no endpoint"));
    }
}
