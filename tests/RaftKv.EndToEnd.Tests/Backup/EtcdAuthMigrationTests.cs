using Grpc.Net.Client;
using RaftKv.EndToEnd.Tests.Etcd;
using RaftKv.EndToEnd.Tests.Etcd.Differential;
using static RaftKv.EndToEnd.Tests.Backup.RestoreDrill;
using V3 = RaftKv.Protocol.Etcd;

namespace RaftKv.EndToEnd.Tests.Backup;

/// <summary>
/// Users, roles and permissions survive a migration in both directions, on real processes with real etcdctl:
/// <list type="bullet">
/// <item>etcd 3.4 → RaftKv: users with a password and with <c>--no-password</c>, roles with READ on a key, WRITE on a
/// range and READWRITE on a prefix, granted, auth enabled; <c>etcdctl snapshot save</c>; <c>raftkv restore</c> on each
/// member of a 3-node RaftKv (Backup/Bbolt/EtcdBackendImport.Auth.cs); then etcdctl logs in with the password set on
/// etcd, is allowed inside its permissions and denied outside, and <c>user list</c>, <c>role list</c>, <c>role get</c>
/// and <c>user get</c> print what they printed against etcd.</item>
/// <item>RaftKv → etcd 3.4: <c>etcdctl snapshot save</c> from RaftKv (Backup/Bbolt/EtcdBackendExport.Auth.cs),
/// <c>etcdctl snapshot restore</c>, a real etcd started on it: its users and roles print as on RaftKv, a user whose
/// password RaftKv holds as bcrypt logs in on etcd, a user with an Argon2id password cannot log in with it.</item>
/// </list>
/// </summary>
public sealed class EtcdAuthMigrationTests
{
    private const string RootPw = "root-Pw-1";
    private const string AlicePw = "alice-Pw-1";

    [Fact]
    public async Task RaftKvRestoredFromAnEtcdSnapshotKeepsItsUsersRolesAndPermissions()
    {
        var work = Path.Combine(Path.GetTempPath(), "raftkv-etcd-auth-import-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(work);
        var file = Path.Combine(work, "etcd.db");
        string[] root = ["--user", "root:" + RootPw];
        string[] alice = ["--user", "alice:" + AlicePw];
        string[][] listings = [["user", "list"], ["role", "list"], ["role", "get", "reader"], ["role", "get", "writer"], ["role", "get", "rw"], ["role", "get", "root"], ["user", "get", "alice"], ["user", "get", "bob"], ["user", "get", "root"]];
        try
        {
            var etcdSays = new List<string>();
            using (var etcd = new EtcdServer(TimeSpan.FromSeconds(5)))
            {
                await etcd.WaitReadyAsync(TimeSpan.FromSeconds(60));
                var ep = etcd.Endpoint;
                foreach (var (k, v) in new[] { ("k1", "one"), ("r/b", "b"), ("p/1", "p"), ("other", "o") })
                {
                    (await Etcdctl.RunAsync(ep, "put", k, v)).Ok();
                }

                await SetUpAuthAsync(ep);
                foreach (var args in listings)
                {
                    etcdSays.Add((await Etcdctl.RunAsync(ep, [.. root, .. args])).Ok().Out);
                }

                (await Etcdctl.RunAsync(ep, [.. root, "snapshot", "save", file])).Ok();
            }

            using var c = new LocalCluster(3);
            foreach (var n in c.Nodes)
            {
                var r = await n.RunCommandAsync("restore", file);
                Assert.True(r.Code == 0, $"restore of node {n.NodeId} exited {r.Code}: {r.Out}{r.Err}");
                Assert.Contains("auth: 3 users (1 without a password: TLS client certificate only), 4 roles with 3 permissions, auth enabled", r.Out, StringComparison.Ordinal);
            }

            c.StartAll();
            await c.WaitForLeaderAsync();
            await c.WaitReadyAsync();
            var rep = Endpoints(c);

            // The first login waits for the token key the restored cluster's first leader proposes.
            await UntilOkAsync(rep, [.. alice, "get", "k1"]);
            Assert.Equal("k1\none\n", (await Etcdctl.RunAsync(rep, [.. alice, "get", "k1"])).Ok().Out); // READ on a key
            (await Etcdctl.RunAsync(rep, [.. alice, "put", "r/c", "x"])).Ok(); // WRITE on [r/a, r/m)
            (await Etcdctl.RunAsync(rep, [.. alice, "put", "p/2", "y"])).Ok(); // READWRITE on the prefix p/
            Assert.Equal("p/1\np\np/2\ny\n", (await Etcdctl.RunAsync(rep, [.. alice, "get", "p/", "--prefix"])).Ok().Out);
            foreach (var denied in new[] { new[] { "get", "other" }, ["get", "r/b"], ["put", "k1", "x"], ["put", "r/z", "x"], ["get", "p", "--prefix"] })
            {
                var r = await Etcdctl.RunAsync(rep, [.. alice, .. denied]);
                Assert.True(r.Code != 0 && r.Err.Contains("permission denied", StringComparison.Ordinal), $"{string.Join(' ', denied)}: {r.Out}{r.Err}");
            }

            var wrong = await Etcdctl.RunAsync(rep, "--user", "alice:not-it", "get", "k1");
            Assert.True(wrong.Code != 0 && wrong.Err.Contains("authentication failed", StringComparison.Ordinal), wrong.Out + wrong.Err);
            var bob = await Etcdctl.RunAsync(rep, "--user", "bob:anything", "get", "k1"); // --no-password: no password works
            Assert.True(bob.Code != 0 && bob.Err.Contains("authentication failed", StringComparison.Ordinal), bob.Out + bob.Err);
            var anonymous = await Etcdctl.RunAsync(rep, "get", "k1");
            Assert.True(anonymous.Code != 0, anonymous.Out + anonymous.Err); // auth is on

            for (var i = 0; i < listings.Length; i++)
            {
                Assert.Equal(etcdSays[i], (await Etcdctl.RunAsync(rep, [.. root, .. listings[i]])).Ok().Out);
            }

            foreach (var n in c.Nodes) // every member holds the same users and roles, and accepts the same password
            {
                Assert.Equal("k1\none\n", (await Etcdctl.RunAsync(n.Grpc, [.. alice, "get", "k1"])).Ok().Out);
                Assert.Equal(etcdSays[0], (await Etcdctl.RunAsync(n.Grpc, [.. root, "user", "list"])).Ok().Out);
            }
        }
        finally
        {
            Directory.Delete(work, recursive: true);
        }
    }

    [Fact]
    public async Task ARealEtcdRestoredFromARaftKvSnapshotKeepsItsUsersAndRoles()
    {
        var work = Path.Combine(Path.GetTempPath(), "raftkv-etcd-auth-export-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(work);
        var file = Path.Combine(work, "snap.db");
        string[] root = ["--user", "root:" + RootPw];
        string[] alice = ["--user", "alice:" + AlicePw];
        string[][] listings = [["user", "list"], ["role", "list"], ["role", "get", "reader"], ["role", "get", "writer"], ["role", "get", "rw"], ["user", "get", "alice"], ["user", "get", "carol"], ["user", "get", "dave"]];
        try
        {
            var raftkvSays = new List<string>();
            using (var c = new LocalCluster(1))
            {
                c.StartAll();
                await c.WaitForLeaderAsync();
                await c.WaitReadyAsync();
                var ep = c.Nodes[0].Grpc;
                foreach (var (k, v) in new[] { ("k1", "one"), ("r/b", "b"), ("p/1", "p"), ("other", "o") })
                {
                    (await EtcdctlAsync(ep, "put", k, v)).Ok();
                }

                // root and alice with bcrypt hashes (etcd 3.5's hashedPassword), carol with a password RaftKv hashes
                // with Argon2id, dave with none.
                using (var channel = GrpcChannel.ForAddress("http://" + ep))
                {
                    var auth = new V3.Auth.AuthClient(channel);
                    await auth.UserAddAsync(new V3.AuthUserAddRequest { Name = "root", HashedPassword = BCrypt.Net.BCrypt.HashPassword(RootPw, workFactor: 4) });
                    await auth.UserAddAsync(new V3.AuthUserAddRequest { Name = "alice", HashedPassword = BCrypt.Net.BCrypt.HashPassword(AlicePw, workFactor: 4) });
                }

                (await Etcdctl.RunAsync(ep, "user", "grant-role", "root", "root")).Ok(); // the root role needs no role record
                (await Etcdctl.RunAsync(ep, "user", "add", "carol", "--new-user-password=carol-Pw-1")).Ok();
                (await Etcdctl.RunAsync(ep, "user", "add", "dave", "--no-password")).Ok();
                await RolesAsync(ep, []);
                (await Etcdctl.RunAsync(ep, "user", "grant-role", "carol", "reader")).Ok();
                (await Etcdctl.RunAsync(ep, "user", "grant-role", "dave", "rw")).Ok();
                (await Etcdctl.RunAsync(ep, "auth", "enable")).Ok();
                Assert.Equal("k1\none\n", (await Etcdctl.RunAsync(ep, [.. alice, "get", "k1"])).Ok().Out);
                foreach (var args in listings)
                {
                    raftkvSays.Add((await Etcdctl.RunAsync(ep, [.. root, .. args])).Ok().Out);
                }

                (await Etcdctl.RunAsync(ep, [.. root, "snapshot", "save", file])).Ok();
            }

            using var etcd = new EtcdServer(TimeSpan.FromSeconds(5), restoreSnapshot: file);
            var ee = etcd.Endpoint;
            await UntilOkAsync(ee, [.. root, "get", "k1"]); // auth is on in the restored etcd: ready once root reads
            for (var i = 0; i < listings.Length; i++)
            {
                Assert.Equal(raftkvSays[i], (await Etcdctl.RunAsync(ee, [.. root, .. listings[i]])).Ok().Out);
            }

            Assert.Equal("k1\none\n", (await Etcdctl.RunAsync(ee, [.. alice, "get", "k1"])).Ok().Out); // bcrypt: the same password on etcd
            (await Etcdctl.RunAsync(ee, [.. alice, "put", "p/2", "y"])).Ok();
            var denied = await Etcdctl.RunAsync(ee, [.. alice, "get", "other"]);
            Assert.True(denied.Code != 0 && denied.Err.Contains("permission denied", StringComparison.Ordinal), denied.Out + denied.Err);
            var carol = await Etcdctl.RunAsync(ee, "--user", "carol:carol-Pw-1", "get", "k1"); // Argon2id: no password etcd verifies
            Assert.True(carol.Code != 0 && carol.Err.Contains("authentication failed", StringComparison.Ordinal), carol.Out + carol.Err);
            (await Etcdctl.RunWithInputAsync(ee, "carol-Pw-2\n", [.. root, "user", "passwd", "carol", "--interactive=false"])).Ok(); // an operator resets it
            Assert.Equal("k1\none\n", (await Etcdctl.RunAsync(ee, "--user", "carol:carol-Pw-2", "get", "k1")).Ok().Out);
        }
        finally
        {
            Directory.Delete(work, recursive: true);
        }
    }

    /// <summary>etcd's documented set-up: root with the root role, alice (password) and bob (--no-password), three
    /// roles (READ on a key, WRITE on a range, READWRITE on a prefix), then auth enable.</summary>
    private static async Task SetUpAuthAsync(string ep)
    {
        (await Etcdctl.RunAsync(ep, "user", "add", "root", "--new-user-password=" + RootPw)).Ok();
        (await Etcdctl.RunAsync(ep, "role", "add", "root")).Ok();
        (await Etcdctl.RunAsync(ep, "user", "grant-role", "root", "root")).Ok();
        (await Etcdctl.RunAsync(ep, "user", "add", "alice", "--new-user-password=" + AlicePw)).Ok();
        (await Etcdctl.RunAsync(ep, "user", "add", "bob", "--no-password")).Ok();
        await RolesAsync(ep, []);
        (await Etcdctl.RunAsync(ep, "user", "grant-role", "bob", "reader")).Ok();
        (await Etcdctl.RunAsync(ep, "auth", "enable")).Ok();
    }

    /// <summary>reader: READ k1; writer: WRITE [r/a, r/m); rw: READWRITE prefix p/; alice gets all three.</summary>
    private static async Task RolesAsync(string ep, string[] user)
    {
        foreach (var role in new[] { "reader", "writer", "rw" })
        {
            (await Etcdctl.RunAsync(ep, [.. user, "role", "add", role])).Ok();
        }

        (await Etcdctl.RunAsync(ep, [.. user, "role", "grant-permission", "reader", "read", "k1"])).Ok();
        (await Etcdctl.RunAsync(ep, [.. user, "role", "grant-permission", "writer", "write", "r/a", "r/m"])).Ok();
        (await Etcdctl.RunAsync(ep, [.. user, "role", "grant-permission", "rw", "readwrite", "p/", "--prefix"])).Ok();
        foreach (var role in new[] { "reader", "writer", "rw" })
        {
            (await Etcdctl.RunAsync(ep, [.. user, "user", "grant-role", "alice", role])).Ok();
        }
    }

    /// <summary>Runs etcdctl until it exits 0, up to a deadline (the restored cluster's leader proposes the token key
    /// on its first metadata round; until then a login answers "unavailable").</summary>
    private static async Task UntilOkAsync(string endpoints, string[] args)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        while (true)
        {
            var r = await Etcdctl.RunAsync(endpoints, args);
            if (r.Code == 0)
            {
                return;
            }

            Assert.True(DateTime.UtcNow < deadline, $"etcdctl {string.Join(' ', args)} kept failing: {r.Out}{r.Err}");
            await Task.Delay(Poll.Interval);
        }
    }
}
