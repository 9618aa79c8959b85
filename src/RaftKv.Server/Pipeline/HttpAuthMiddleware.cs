using System.Net.Http.Headers;
using System.Text;
using RaftKv.Server.Security;
using RaftKv.Server.Security.Auth;

namespace RaftKv.Server.Pipeline;

/// <summary>
/// HTTP authentication and authorization (after <see cref="ClientIdentityMiddleware"/>): when auth is enabled,
/// identifies the caller (<c>Authorization: Bearer &lt;token&gt;</c>, <c>Authorization: Basic user:password</c>,
/// or the TLS client certificate's CN) and checks the route's access (<see cref="AuthRules.ForHttp"/>) in
/// <see cref="AuthGate"/>. Refusals are thrown and answered as JSON by <see cref="HttpClientErrors"/>
/// (401 unauthenticated / invalid_token / auth_failed, 403 permission_denied, 429 too_many_requests).
/// gRPC requests (content type application/grpc) are left to <see cref="GrpcAuthInterceptor"/>. A linearizable
/// KV read first passes the <see cref="ReadFence"/> (auth on or off), so it is judged after its read barrier.
/// </summary>
public sealed class HttpAuthMiddleware(RequestDelegate next, AuthGate gate, ReadFence fence)
{
    public Task InvokeAsync(HttpContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        if (HttpPipeline.IsGrpc(context))
        {
            return next(context);
        }

        if (ReadFence.IsLinearizableRead(context.Request))
        {
            return FencedAsync(context);
        }

        if (gate.Enabled)
        {
            Check(context);
        }

        return next(context);
    }

    private async Task FencedAsync(HttpContext context)
    {
        await fence.PassAsync(context, context.RequestAborted).ConfigureAwait(false);
        if (gate.Enabled)
        {
            Check(context);
        }

        await next(context).ConfigureAwait(false);
    }

    private void Check(HttpContext context)
    {
        string? token = null, user = null, password = null;
        if (AuthenticationHeaderValue.TryParse(context.Request.Headers.Authorization.ToString(), out var header))
        {
            if (header.Scheme.Equals("Bearer", StringComparison.OrdinalIgnoreCase))
            {
                token = header.Parameter;
            }
            else if (header.Scheme.Equals("Basic", StringComparison.OrdinalIgnoreCase))
            {
                (user, password) = Basic(header.Parameter);
            }
        }

        var access = AuthRules.ForHttp(context.Request.Method, context.Request.Path.Value ?? "/", KvPathKeyOf(context), context.Request.Query, gate.Options.OpenMetrics);
        var principal = access.Kind == AuthAccessKind.Open ? null
            : gate.Identify(token, user, password, ClientIdentity.Of(context).CertificateUser, context.Connection.RemoteIpAddress);
        gate.Authorize(principal, access);
        if (principal is not null)
        {
            context.Features.Set(principal);
        }
    }

    private static (string User, string Password) Basic(string? parameter)
    {
        try
        {
            var text = Encoding.UTF8.GetString(Convert.FromBase64String(parameter ?? string.Empty));
            var colon = text.IndexOf(':', StringComparison.Ordinal);
            return colon < 0 ? (text, string.Empty) : (text[..colon], text[(colon + 1)..]);
        }
        catch (FormatException)
        {
            return (string.Empty, string.Empty);
        }
    }

    /// <summary>The key a <c>/kv/{key}</c> request acts on (read from its target as the handler reads it), else null.</summary>
    private static Http.KvPathKeyResult? KvPathKeyOf(HttpContext context)
        => (context.Request.Path.Value ?? string.Empty).StartsWith("/kv/", StringComparison.Ordinal) ? Http.KvPathKey.Of(context) : null;
}
