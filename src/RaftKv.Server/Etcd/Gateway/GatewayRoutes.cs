using V3 = RaftKv.Protocol.Etcd;

namespace RaftKv.Server.Etcd.Gateway;

/// <summary>
/// The routes of etcd's JSON gateway (etcd 3.4's <c>rpc.proto</c>, <c>v3lock.proto</c> and <c>v3election.proto</c> HTTP
/// annotations, every one <c>POST</c>, body = the request message), each served under both <see cref="Prefixes"/>. etcd 3.4 maps <c>/maintenance/hash</c> to Hash
/// (HashKV has no route there) and has no <c>/auth/status</c>; etcd 3.5's <c>/maintenance/hashkv</c> and
/// <c>/auth/status</c> are served too (a 3.4 client never calls them).
/// </summary>
public static class GatewayRoutes
{
    /// <summary>etcd 3.4 serves <c>/v3</c> and <c>/v3beta</c> (3.3's name); <c>/v3alpha</c> is 3.2's, which etcd 3.4 dropped
    /// but clients still default to (Python's etcd3gw 2.0, as Debian 12 ships it, posts to <c>/v3alpha/</c> unless told
    /// otherwise): served too, as an alias.</summary>
    public static readonly IReadOnlyList<string> Prefixes = ["/v3", "/v3beta", "/v3alpha"];

    public static IReadOnlyList<GatewayRoute> All { get; } = Build();

    private static List<GatewayRoute> Build()
    {
        var services = V3.RpcReflection.Descriptor.Services
            .Concat(V3.V3Lock.V3LockReflection.Descriptor.Services)
            .Concat(V3.V3Election.V3ElectionReflection.Descriptor.Services)
            .ToDictionary(s => s.Name, StringComparer.Ordinal);
        var routes = new List<GatewayRoute>();
        void Add(string path, string service, string method)
            => routes.Add(new GatewayRoute(path, services[service].FindMethodByName(method) ?? throw new InvalidOperationException($"no method {service}/{method}")));

        Add("/kv/range", "KV", "Range");
        Add("/kv/put", "KV", "Put");
        Add("/kv/deleterange", "KV", "DeleteRange");
        Add("/kv/txn", "KV", "Txn");
        Add("/kv/compaction", "KV", "Compact");
        Add("/watch", "Watch", "Watch");
        Add("/lease/grant", "Lease", "LeaseGrant");
        Add("/lease/revoke", "Lease", "LeaseRevoke");
        Add("/kv/lease/revoke", "Lease", "LeaseRevoke");
        Add("/lease/keepalive", "Lease", "LeaseKeepAlive");
        Add("/lease/timetolive", "Lease", "LeaseTimeToLive");
        Add("/kv/lease/timetolive", "Lease", "LeaseTimeToLive");
        Add("/lease/leases", "Lease", "LeaseLeases");
        Add("/kv/lease/leases", "Lease", "LeaseLeases");
        Add("/cluster/member/add", "Cluster", "MemberAdd");
        Add("/cluster/member/remove", "Cluster", "MemberRemove");
        Add("/cluster/member/update", "Cluster", "MemberUpdate");
        Add("/cluster/member/list", "Cluster", "MemberList");
        Add("/cluster/member/promote", "Cluster", "MemberPromote");
        Add("/maintenance/alarm", "Maintenance", "Alarm");
        Add("/maintenance/status", "Maintenance", "Status");
        Add("/maintenance/defragment", "Maintenance", "Defragment");
        Add("/maintenance/hash", "Maintenance", "Hash");
        Add("/maintenance/hashkv", "Maintenance", "HashKV");
        Add("/maintenance/snapshot", "Maintenance", "Snapshot");
        Add("/maintenance/transfer-leadership", "Maintenance", "MoveLeader");
        Add("/auth/enable", "Auth", "AuthEnable");
        Add("/auth/disable", "Auth", "AuthDisable");
        Add("/auth/status", "Auth", "AuthStatus");
        Add("/auth/authenticate", "Auth", "Authenticate");
        Add("/auth/user/add", "Auth", "UserAdd");
        Add("/auth/user/get", "Auth", "UserGet");
        Add("/auth/user/list", "Auth", "UserList");
        Add("/auth/user/delete", "Auth", "UserDelete");
        Add("/auth/user/changepw", "Auth", "UserChangePassword");
        Add("/auth/user/grant", "Auth", "UserGrantRole");
        Add("/auth/user/revoke", "Auth", "UserRevokeRole");
        Add("/auth/role/add", "Auth", "RoleAdd");
        Add("/auth/role/get", "Auth", "RoleGet");
        Add("/auth/role/list", "Auth", "RoleList");
        Add("/auth/role/delete", "Auth", "RoleDelete");
        Add("/auth/role/grant", "Auth", "RoleGrantPermission");
        Add("/auth/role/revoke", "Auth", "RoleRevokePermission");

        // etcd 3.4's v3lock.proto and v3election.proto annotations (embed/serve.go registers both gateways).
        Add("/lock/lock", "Lock", "Lock");
        Add("/lock/unlock", "Lock", "Unlock");
        Add("/election/campaign", "Election", "Campaign");
        Add("/election/proclaim", "Election", "Proclaim");
        Add("/election/leader", "Election", "Leader");
        Add("/election/observe", "Election", "Observe");
        Add("/election/resign", "Election", "Resign");
        return routes;
    }

    /// <summary>True for a path under a gateway prefix (auth is the gRPC pipeline's there, not the HTTP API's).</summary>
    public static bool IsGatewayPath(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        foreach (var prefix in Prefixes)
        {
            if (path.StartsWith(prefix, StringComparison.Ordinal) && path.Length > prefix.Length && path[prefix.Length] == '/')
            {
                return true;
            }
        }

        return false;
    }
}
