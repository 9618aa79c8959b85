using System.Text;
using RaftKv.Replication;
using RaftKv.Replication.Api;
using RaftKv.Server.Security.Auth;

namespace RaftKv.Server.Http;

/// <summary><c>POST /auth/authenticate</c> <c>{"name": "...", "password": "..."}</c> → <c>{"token": "..."}</c>:
/// the HTTP form of etcd's Authenticate (rate-limited the same way), for <c>Authorization: Bearer</c>.
/// <c>GET /auth/whoami</c> → <see cref="WhoamiBody"/>: who the caller authenticated as, its roles and their key
/// permissions, so a client (the dashboard) shows only what the user may do. It decides nothing: every call is
/// still judged by <see cref="AuthGate"/>, and this route itself goes through the same
/// <c>HttpAuthMiddleware</c> (any authenticated user; 401 without a credential when auth is on).</summary>
public static class AuthHttpApi
{
    public static void Map(WebApplication app)
    {
        AuthAdminHttpApi.Map(app); // users and roles (root only)
        app.MapPost("/auth/authenticate", async (HttpContext ctx, AuthGate gate) =>
        {
            var body = await AuthAdminHttpApi.BodyAsync<CredentialsBody>(ctx, ctx.RequestAborted).ConfigureAwait(false);
            var token = await gate.AuthenticateAsync(body.Name ?? string.Empty, body.Password ?? string.Empty, ctx.Connection.RemoteIpAddress?.ToString(), ctx.RequestAborted).ConfigureAwait(false);
            return Results.Json(new TokenBody(token));
        });

        app.MapGet("/auth/whoami", (HttpContext ctx, AuthGate gate, KvNode node) =>
        {
            if (!gate.Enabled)
            {
                return Results.Json(new WhoamiBody(false, null, [], true, true, true, [])); // auth off: anyone may do anything
            }

            var principal = AuthPrincipal.Of(ctx);
            var state = node.Auth;
            if (principal is null || principal.Node > 0 || state.User(principal.User) is not { } user)
            {
                return Results.Json(new WhoamiBody(true, principal?.User, [], principal?.Node > 0, false, false, []));
            }

            var permissions = user.Roles.Select(state.Role).OfType<AuthRole>()
                .SelectMany(r => r.Permissions.Select(p => new PermissionBody(r.Name, Text(p.Key), Text(p.RangeEnd), Type(p.Type))))
                .ToList();
            var all = user.Roles.Select(state.Role).OfType<AuthRole>().SelectMany(r => r.Permissions).ToList();
            return Results.Json(new WhoamiBody(true, user.Name, user.Roles, user.IsRoot,
                user.IsRoot || all.Exists(p => p.Allows(write: false)), user.IsRoot || all.Exists(p => p.Allows(write: true)), permissions));
        });
    }

    private static string Text(byte[] bytes) => Encoding.UTF8.GetString(bytes);

    private static string Type(AuthPermissionType type) => type switch
    {
        AuthPermissionType.Read => "read",
        AuthPermissionType.Write => "write",
        _ => "readwrite",
    };

    public sealed record CredentialsBody(string? Name, string? Password);

    public sealed record TokenBody(string Token);

    /// <summary><c>GET /auth/whoami</c> (snake_case): <c>auth_enabled</c>; <c>user</c> (null when auth is off);
    /// <c>roles</c>; <c>admin</c> (the root role: admin, membership, maintenance and backup calls; true when auth
    /// is off); <c>may_read_keys</c> / <c>may_write_keys</c> (some key range is readable / writable);
    /// <c>permissions</c>, one per role permission with etcd's range encoding (UTF-8 text: <c>range_end</c> ""
    /// = the single key, "\u0000" = every key from <c>key</c> on).</summary>
    public sealed record WhoamiBody(bool AuthEnabled, string? User, IReadOnlyList<string> Roles, bool Admin, bool MayReadKeys, bool MayWriteKeys, IReadOnlyList<PermissionBody> Permissions);

    public sealed record PermissionBody(string Role, string Key, string RangeEnd, string Type);
}
