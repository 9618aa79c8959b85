using RaftKv.Server.Security.Auth;

namespace RaftKv.Server.Http;

/// <summary><c>POST /auth/authenticate</c> <c>{"name": "...", "password": "..."}</c> → <c>{"token": "..."}</c>:
/// the HTTP form of etcd's Authenticate (rate-limited the same way), for <c>Authorization: Bearer</c>.</summary>
public static class AuthHttpApi
{
    public static void Map(WebApplication app)
    {
        app.MapPost("/auth/authenticate", async (HttpContext ctx, AuthGate gate, CredentialsBody body) =>
        {
            var token = await gate.AuthenticateAsync(body.Name ?? string.Empty, body.Password ?? string.Empty, ctx.Connection.RemoteIpAddress?.ToString(), ctx.RequestAborted).ConfigureAwait(false);
            return Results.Json(new TokenBody(token));
        });
    }

    public sealed record CredentialsBody(string? Name, string? Password);

    public sealed record TokenBody(string Token);
}
