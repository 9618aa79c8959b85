using System.Security.Cryptography;
using Grpc.Core;
using RaftKv.Protocol.Etcd;
using RaftKv.Replication;
using RaftKv.Replication.Api;
using RaftKv.Replication.Auth;
using RaftKv.Replication.Commands;
using RaftKv.Server.Security.Auth;
using Authpb = RaftKv.Protocol.Etcd.Authpb;

namespace RaftKv.Server.Etcd;

/// <summary>
/// etcdserverpb.Auth: etcd's users, roles and permissions over the replicated auth state (docs/api.md,
/// "Authentication"). Changes are proposed on the leader (the pipeline forwards them,
/// <see cref="Pipeline.GrpcLeaderForwarder.ForwardedMethods"/>); a password is hashed here, on the node that
/// proposes, so only its Argon2id hash enters the log (or the bcrypt hash a client sent as etcd's
/// <c>hashedPassword</c>, kept as is: <see cref="PasswordHasher.FromBcrypt"/>). Reads answer from this node's state after a read
/// barrier. Who may call what is the pipeline's business (<see cref="AuthRules"/>: Authenticate and
/// AuthStatus are open, the rest needs root once auth is on). etcd's refusals come back as
/// <see cref="AuthException"/> and are mapped to etcd's strings by the interceptor.
/// </summary>
public sealed class EtcdAuthService(KvNode node, EtcdIdentity identity, AuthGate gate, PasswordHasher hasher) : Auth.AuthBase
{
    public override Task<AuthStatusResponse> AuthStatus(AuthStatusRequest request, ServerCallContext context)
    {
        var state = node.Auth;
        return Task.FromResult(new AuthStatusResponse { Header = Header(), Enabled = state.Enabled, AuthRevision = (ulong)state.Revision });
    }

    public override async Task<AuthenticateResponse> Authenticate(AuthenticateRequest request, ServerCallContext context)
    {
        var address = context.GetHttpContext().Connection.RemoteIpAddress?.ToString();
        var token = await gate.AuthenticateAsync(request.Name, request.Password, address, context.CancellationToken).ConfigureAwait(false);
        return new AuthenticateResponse { Header = Header(), Token = token };
    }

    public override async Task<AuthEnableResponse> AuthEnable(AuthEnableRequest request, ServerCallContext context)
    {
        // The token key is drawn here and kept by the state only if the cluster has none yet.
        await Change(CommandKind.AuthEnable, new AuthChange(Secret: RandomNumberGenerator.GetBytes(32)), context).ConfigureAwait(false);
        return new AuthEnableResponse { Header = Header() };
    }

    public override async Task<AuthDisableResponse> AuthDisable(AuthDisableRequest request, ServerCallContext context)
    {
        await Change(CommandKind.AuthDisable, new AuthChange(), context).ConfigureAwait(false);
        return new AuthDisableResponse { Header = Header() };
    }

    public override async Task<AuthUserAddResponse> UserAdd(AuthUserAddRequest request, ServerCallContext context)
    {
        if (request.Name.Length == 0)
        {
            throw new AuthException(AuthError.UserEmpty, "user name is empty");
        }

        var noPassword = request.Options?.NoPassword == true;
        await Change(CommandKind.UserAdd, new AuthChange(request.Name, Secret: noPassword ? null : Secret(request.Password, request.HashedPassword)), context).ConfigureAwait(false);
        return new AuthUserAddResponse { Header = Header() };
    }

    public override async Task<AuthUserGetResponse> UserGet(AuthUserGetRequest request, ServerCallContext context)
    {
        var state = await node.ReadAuthAsync(ReadConsistency.Linearizable, context.CancellationToken).ConfigureAwait(false);
        var user = state.User(request.Name) ?? throw new AuthException(AuthError.UserNotFound, "user name not found");
        var response = new AuthUserGetResponse { Header = Header() };
        response.Roles.AddRange(user.Roles);
        return response;
    }

    public override async Task<AuthUserListResponse> UserList(AuthUserListRequest request, ServerCallContext context)
    {
        var state = await node.ReadAuthAsync(ReadConsistency.Linearizable, context.CancellationToken).ConfigureAwait(false);
        var response = new AuthUserListResponse { Header = Header() };
        response.Users.AddRange(state.Users.Keys.Order(StringComparer.Ordinal));
        return response;
    }

    public override async Task<AuthUserDeleteResponse> UserDelete(AuthUserDeleteRequest request, ServerCallContext context)
    {
        await Change(CommandKind.UserDelete, new AuthChange(request.Name), context).ConfigureAwait(false);
        return new AuthUserDeleteResponse { Header = Header() };
    }

    public override async Task<AuthUserChangePasswordResponse> UserChangePassword(AuthUserChangePasswordRequest request, ServerCallContext context)
    {
        await Change(CommandKind.UserChangePassword, new AuthChange(request.Name, Secret: Secret(request.Password, request.HashedPassword)), context).ConfigureAwait(false);
        return new AuthUserChangePasswordResponse { Header = Header() };
    }

    public override async Task<AuthUserGrantRoleResponse> UserGrantRole(AuthUserGrantRoleRequest request, ServerCallContext context)
    {
        await Change(CommandKind.UserGrantRole, new AuthChange(request.User, request.Role), context).ConfigureAwait(false);
        return new AuthUserGrantRoleResponse { Header = Header() };
    }

    public override async Task<AuthUserRevokeRoleResponse> UserRevokeRole(AuthUserRevokeRoleRequest request, ServerCallContext context)
    {
        await Change(CommandKind.UserRevokeRole, new AuthChange(request.Name, request.Role), context).ConfigureAwait(false);
        return new AuthUserRevokeRoleResponse { Header = Header() };
    }

    public override async Task<AuthRoleAddResponse> RoleAdd(AuthRoleAddRequest request, ServerCallContext context)
    {
        await Change(CommandKind.RoleAdd, new AuthChange(request.Name), context).ConfigureAwait(false);
        return new AuthRoleAddResponse { Header = Header() };
    }

    public override async Task<AuthRoleGetResponse> RoleGet(AuthRoleGetRequest request, ServerCallContext context)
    {
        var state = await node.ReadAuthAsync(ReadConsistency.Linearizable, context.CancellationToken).ConfigureAwait(false);
        var role = state.Role(request.Role) ?? throw new AuthException(AuthError.RoleNotFound, "role name not found");
        var response = new AuthRoleGetResponse { Header = Header() };
        foreach (var p in role.Permissions)
        {
            response.Perm.Add(new Authpb.Permission
            {
                PermType = (Authpb.Permission.Types.Type)p.Type,
                Key = Google.Protobuf.ByteString.CopyFrom(p.Key),
                RangeEnd = Google.Protobuf.ByteString.CopyFrom(p.RangeEnd),
            });
        }

        return response;
    }

    public override async Task<AuthRoleListResponse> RoleList(AuthRoleListRequest request, ServerCallContext context)
    {
        var state = await node.ReadAuthAsync(ReadConsistency.Linearizable, context.CancellationToken).ConfigureAwait(false);
        var response = new AuthRoleListResponse { Header = Header() };
        response.Roles.AddRange(state.Roles.Keys.Order(StringComparer.Ordinal));
        return response;
    }

    public override async Task<AuthRoleDeleteResponse> RoleDelete(AuthRoleDeleteRequest request, ServerCallContext context)
    {
        await Change(CommandKind.RoleDelete, new AuthChange(request.Role), context).ConfigureAwait(false);
        return new AuthRoleDeleteResponse { Header = Header() };
    }

    public override async Task<AuthRoleGrantPermissionResponse> RoleGrantPermission(AuthRoleGrantPermissionRequest request, ServerCallContext context)
    {
        if (request.Perm is not { } perm)
        {
            throw new AuthException(AuthError.PermissionNotGranted, "permission not given");
        }

        var permission = new AuthPermission((AuthPermissionType)perm.PermType, perm.Key.ToByteArray(), perm.RangeEnd.ToByteArray());
        await Change(CommandKind.RoleGrantPermission, new AuthChange(request.Name, Permission: permission), context).ConfigureAwait(false);
        return new AuthRoleGrantPermissionResponse { Header = Header() };
    }

    public override async Task<AuthRoleRevokePermissionResponse> RoleRevokePermission(AuthRoleRevokePermissionRequest request, ServerCallContext context)
    {
        var permission = new AuthPermission(AuthPermissionType.Read, request.Key.ToByteArray(), request.RangeEnd.ToByteArray());
        await Change(CommandKind.RoleRevokePermission, new AuthChange(request.Role, Permission: permission), context).ConfigureAwait(false);
        return new AuthRoleRevokePermissionResponse { Header = Header() };
    }

    private Task<long> Change(CommandKind kind, AuthChange change, ServerCallContext context) => node.ChangeAuthAsync(kind, change, context.CancellationToken);

    private ResponseHeader Header() => identity.Header(node.Revision);

    /// <summary>The hash record to store: the password hashed here with Argon2id, or — when only etcd's
    /// <c>hashedPassword</c> is given — that bcrypt hash as is (a password, when given, wins, as in etcd).</summary>
    private byte[] Secret(string password, string hashedPassword)
        => password.Length == 0 && hashedPassword.Length > 0 ? PasswordHasher.FromBcrypt(hashedPassword) : hasher.Hash(password);
}
