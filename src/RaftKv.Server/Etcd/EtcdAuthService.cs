using Grpc.Core;
using RaftKv.Protocol.Etcd;
using RaftKv.Server.Pipeline;

namespace RaftKv.Server.Etcd;

/// <summary>
/// etcdserverpb.Auth. RaftKv does not implement etcd's users and roles yet (the security issue adds
/// them): <c>AuthStatus</c> answers "disabled" (etcdctl and client libraries ask it before anything
/// else), <c>Authenticate</c> answers etcd's "authentication is not enabled", and every management
/// call answers UNIMPLEMENTED.
/// </summary>
public sealed class EtcdAuthService(EtcdIdentity identity) : Auth.AuthBase
{
    private const string Later = "etcd users and roles are not implemented yet (auth is disabled)";

    public override Task<AuthStatusResponse> AuthStatus(AuthStatusRequest request, ServerCallContext context)
        => Task.FromResult(new AuthStatusResponse { Header = identity.Header(0), Enabled = false, AuthRevision = 0 });

    public override Task<AuthenticateResponse> Authenticate(AuthenticateRequest request, ServerCallContext context)
        => throw GrpcErrors.Etcd.AuthNotEnabled;

    public override Task<AuthDisableResponse> AuthDisable(AuthDisableRequest request, ServerCallContext context)
        => Task.FromResult(new AuthDisableResponse { Header = identity.Header(0) });

    public override Task<AuthEnableResponse> AuthEnable(AuthEnableRequest request, ServerCallContext context) => throw Unimplemented("AuthEnable");

    public override Task<AuthUserAddResponse> UserAdd(AuthUserAddRequest request, ServerCallContext context) => throw Unimplemented("UserAdd");

    public override Task<AuthUserGetResponse> UserGet(AuthUserGetRequest request, ServerCallContext context) => throw Unimplemented("UserGet");

    public override Task<AuthUserListResponse> UserList(AuthUserListRequest request, ServerCallContext context) => throw Unimplemented("UserList");

    public override Task<AuthUserDeleteResponse> UserDelete(AuthUserDeleteRequest request, ServerCallContext context) => throw Unimplemented("UserDelete");

    public override Task<AuthUserChangePasswordResponse> UserChangePassword(AuthUserChangePasswordRequest request, ServerCallContext context) => throw Unimplemented("UserChangePassword");

    public override Task<AuthUserGrantRoleResponse> UserGrantRole(AuthUserGrantRoleRequest request, ServerCallContext context) => throw Unimplemented("UserGrantRole");

    public override Task<AuthUserRevokeRoleResponse> UserRevokeRole(AuthUserRevokeRoleRequest request, ServerCallContext context) => throw Unimplemented("UserRevokeRole");

    public override Task<AuthRoleAddResponse> RoleAdd(AuthRoleAddRequest request, ServerCallContext context) => throw Unimplemented("RoleAdd");

    public override Task<AuthRoleGetResponse> RoleGet(AuthRoleGetRequest request, ServerCallContext context) => throw Unimplemented("RoleGet");

    public override Task<AuthRoleListResponse> RoleList(AuthRoleListRequest request, ServerCallContext context) => throw Unimplemented("RoleList");

    public override Task<AuthRoleDeleteResponse> RoleDelete(AuthRoleDeleteRequest request, ServerCallContext context) => throw Unimplemented("RoleDelete");

    public override Task<AuthRoleGrantPermissionResponse> RoleGrantPermission(AuthRoleGrantPermissionRequest request, ServerCallContext context) => throw Unimplemented("RoleGrantPermission");

    public override Task<AuthRoleRevokePermissionResponse> RoleRevokePermission(AuthRoleRevokePermissionRequest request, ServerCallContext context) => throw Unimplemented("RoleRevokePermission");

    private static RpcException Unimplemented(string method) => GrpcErrors.Etcd.Unimplemented($"{method}: {Later}");
}
