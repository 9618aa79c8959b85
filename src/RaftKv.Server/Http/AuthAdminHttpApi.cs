using System.Text;
using System.Text.Json;
using RaftKv.Replication;
using RaftKv.Replication.Api;
using RaftKv.Replication.Auth;
using RaftKv.Replication.Commands;
using RaftKv.Server.Pipeline;
using RaftKv.Server.Security.Auth;

namespace RaftKv.Server.Http;

/// <summary>
/// Users and roles over HTTP, for the dashboard's Users &amp; roles page (docs/api.md, "Users and roles over HTTP"):
/// thin routes over the node's replicated auth state, the same calls the etcd Auth service makes
/// (<see cref="KvNode.ReadAuthAsync"/>, <see cref="KvNode.ChangeAuthAsync"/>), so etcd's rules and refusals hold
/// (409 <c>auth_refused</c> with etcd's text: a user that exists, deleting root while auth is on, ...).
/// <c>GET /auth/users</c>, <c>GET /auth/roles</c> read this node's state after a read barrier; every change is
/// forwarded to the leader, which hashes a new password (Argon2id) before it enters the log. Who may call them is
/// <see cref="HttpAuthMiddleware"/>'s business: root only once auth is on (403 <c>permission_denied</c> JSON).
/// Keys and range ends are UTF-8 text with etcd's range encoding (<c>range_end</c> "" = the key alone,
/// "\u0000" = every key from <c>key</c> on); <c>prefix: true</c> on a grant computes the range end of the prefix.
/// </summary>
public static class AuthAdminHttpApi
{
    public static void Map(IEndpointRouteBuilder app)
    {
        app.MapGet("/auth/users", async (KvNode node, CancellationToken ct) =>
        {
            var state = await node.ReadAuthAsync(ReadConsistency.Linearizable, ct).ConfigureAwait(false);
            return Results.Json(new UsersBody(state.Enabled, state.Users.Values.OrderBy(u => u.Name, StringComparer.Ordinal)
                .Select(u => new UserBody(u.Name, [.. u.Roles.Order(StringComparer.Ordinal)], u.PasswordHash is null)).ToList()));
        });

        app.MapGet("/auth/roles", async (KvNode node, CancellationToken ct) =>
        {
            var state = await node.ReadAuthAsync(ReadConsistency.Linearizable, ct).ConfigureAwait(false);
            return Results.Json(new RolesBody(state.Roles.Values.OrderBy(r => r.Name, StringComparer.Ordinal)
                .Select(r => new RoleBody(r.Name, r.Permissions.Select(p => new PermissionBody(Text(p.Key), Text(p.RangeEnd), Type(p.Type))).ToList())).ToList()));
        });

        app.MapPost("/auth/users", async (KvNode node, PasswordHasher hasher, HttpContext context, CancellationToken ct) =>
        {
            var body = await BodyAsync<NewUserBody>(context, ct).ConfigureAwait(false);
            if (string.IsNullOrEmpty(body.Name))
            {
                throw new AuthException(AuthError.UserEmpty, "user name is empty");
            }

            if (body.NoPassword != true && string.IsNullOrEmpty(body.Password))
            {
                throw new ArgumentException("a password is required (or \"no_password\": true for a user that only authenticates by TLS certificate)");
            }

            var secret = body.NoPassword == true ? null : hasher.Hash(body.Password!);
            return Changed(await node.ChangeAuthAsync(CommandKind.UserAdd, new AuthChange(body.Name, Secret: secret), ct).ConfigureAwait(false));
        }).ForwardToLeader();

        app.MapDelete("/auth/users/{name}", async (KvNode node, string name, CancellationToken ct)
            => Changed(await node.ChangeAuthAsync(CommandKind.UserDelete, new AuthChange(name), ct).ConfigureAwait(false))).ForwardToLeader();

        app.MapPost("/auth/users/{name}/roles", async (KvNode node, string name, HttpContext context, CancellationToken ct) =>
        {
            var body = await BodyAsync<RoleNameBody>(context, ct).ConfigureAwait(false);
            return Changed(await node.ChangeAuthAsync(CommandKind.UserGrantRole, new AuthChange(name, Required(body.Role, "role")), ct).ConfigureAwait(false));
        }).ForwardToLeader();

        app.MapDelete("/auth/users/{name}/roles/{role}", async (KvNode node, string name, string role, CancellationToken ct)
            => Changed(await node.ChangeAuthAsync(CommandKind.UserRevokeRole, new AuthChange(name, role), ct).ConfigureAwait(false))).ForwardToLeader();

        app.MapPost("/auth/roles", async (KvNode node, HttpContext context, CancellationToken ct) =>
        {
            var body = await BodyAsync<RoleNameBody>(context, ct).ConfigureAwait(false);
            return Changed(await node.ChangeAuthAsync(CommandKind.RoleAdd, new AuthChange(Required(body.Name, "name")), ct).ConfigureAwait(false));
        }).ForwardToLeader();

        app.MapDelete("/auth/roles/{name}", async (KvNode node, string name, CancellationToken ct)
            => Changed(await node.ChangeAuthAsync(CommandKind.RoleDelete, new AuthChange(name), ct).ConfigureAwait(false))).ForwardToLeader();

        app.MapPost("/auth/roles/{name}/permissions", async (KvNode node, string name, HttpContext context, CancellationToken ct) =>
        {
            var body = await BodyAsync<GrantBody>(context, ct).ConfigureAwait(false);
            var key = Encoding.UTF8.GetBytes(body.Key ?? string.Empty);
            var end = body.Prefix == true ? KeyAccess.PrefixEnd(key) : Encoding.UTF8.GetBytes(body.RangeEnd ?? string.Empty);
            var type = body.Type switch
            {
                "read" => AuthPermissionType.Read,
                "write" => AuthPermissionType.Write,
                "readwrite" => AuthPermissionType.ReadWrite,
                _ => throw new ArgumentException("type must be read, write or readwrite"),
            };
            return Changed(await node.ChangeAuthAsync(CommandKind.RoleGrantPermission, new AuthChange(name, Permission: new AuthPermission(type, key, end)), ct).ConfigureAwait(false));
        }).ForwardToLeader();

        // DELETE with the permission in the query (a body on DELETE is not forwarded by every proxy): ?key=&range_end=
        app.MapDelete("/auth/roles/{name}/permissions", async (KvNode node, string name, HttpRequest request, CancellationToken ct) =>
        {
            var key = Encoding.UTF8.GetBytes(request.Query["key"].ToString());
            var end = Encoding.UTF8.GetBytes(request.Query["range_end"].ToString());
            return Changed(await node.ChangeAuthAsync(CommandKind.RoleRevokePermission, new AuthChange(name, Permission: new AuthPermission(AuthPermissionType.Read, key, end)), ct).ConfigureAwait(false));
        }).ForwardToLeader();
    }

    /// <summary>The JSON body, read here rather than bound by the framework: the forwarding filter must see the body
    /// first (a follower forwards it untouched), and any content type is read as JSON (as etcd's gateway does; a plain
    /// <c>curl -d</c> sends a form type). Malformed JSON is 400 <c>invalid_json</c>, none at all 400.</summary>
    internal static async Task<T> BodyAsync<T>(HttpContext context, CancellationToken ct)
        => await JsonSerializer.DeserializeAsync<T>(context.Request.Body, JsonBodies.Options, ct).ConfigureAwait(false)
            ?? throw new ArgumentException("a JSON object body is required");

    private static IResult Changed(long revision) => Results.Json(new ChangedBody(revision));

    private static string Required(string? value, string field)
        => string.IsNullOrEmpty(value) ? throw new ArgumentException($"\"{field}\" is required") : value;

    private static string Text(byte[] bytes) => Encoding.UTF8.GetString(bytes);

    private static string Type(AuthPermissionType type) => type switch
    {
        AuthPermissionType.Read => "read",
        AuthPermissionType.Write => "write",
        _ => "readwrite",
    };

    /// <summary><c>GET /auth/users</c>: whether auth is on, and each user with its roles (<c>no_password</c>: a
    /// user that authenticates only by TLS client certificate).</summary>
    public sealed record UsersBody(bool AuthEnabled, IReadOnlyList<UserBody> Users);

    public sealed record UserBody(string Name, IReadOnlyList<string> Roles, bool NoPassword);

    /// <summary><c>GET /auth/roles</c>: each role with its key permissions (<c>type</c> read | write | readwrite).</summary>
    public sealed record RolesBody(IReadOnlyList<RoleBody> Roles);

    public sealed record RoleBody(string Name, IReadOnlyList<PermissionBody> Permissions);

    public sealed record PermissionBody(string Key, string RangeEnd, string Type);

    public sealed record NewUserBody(string? Name, string? Password, bool? NoPassword);

    public sealed record RoleNameBody(string? Name, string? Role);

    public sealed record GrantBody(string? Key, string? RangeEnd, bool? Prefix, string? Type);

    /// <summary>Every change answers the auth revision it made.</summary>
    public sealed record ChangedBody(long AuthRevision);
}
