using System.Text.RegularExpressions;
using Google.Protobuf;
using V3 = RaftKv.Protocol.Etcd;

namespace RaftKv.EndToEnd.Tests.Etcd.Differential;

/// <summary>
/// etcdctl 3.4's output formats (<c>-w simple|json|fields|table|protobuf</c>, <c>--hex</c>) for the key-value, lease,
/// auth, cluster and maintenance commands, against a real etcd 3.4 and RaftKv given the same commands
/// (<see cref="EtcdctlDiff"/>: same exit code, stdout and stderr after removing what names the server). Outputs that
/// name the server itself (member list, endpoint status/health/hashkv) are compared in shape: the same fields, columns
/// and words, every number N.
/// </summary>
public sealed partial class EtcdctlOutputDifferentialTests(DiffFixture fixture) : IClassFixture<DiffFixture>
{
    private static readonly string[] Formats = ["simple", "json", "fields", "table"];

    private Task<EtcdctlResult> Same(params string[] args) => EtcdctlDiff.AssertSameAsync(fixture, args);

    private Task<EtcdctlResult> SameIn(string stdin, params string[] args) => EtcdctlDiff.AssertSameAsync(fixture, stdin, null, args);

    [Fact]
    public async Task KvCommandsPrintEveryFormatAsEtcd()
    {
        foreach (var w in Formats)
        {
            await Same("put", "fmt/a", "v-" + w, "-w", w);
            await Same("put", "fmt/a", "w-" + w, "--prev-kv", "-w", w);
            await Same("put", "fmt/b", "x y", "-w", w);
            await Same("put", "fmt/\u00ff", "high", "-w", w);
            await Same("get", "fmt/", "--prefix", "-w", w);
            await Same("get", "fmt/", "--prefix", "--hex", "-w", w);
            await Same("get", "fmt/a", "--print-value-only", "-w", w);
            await Same("get", "fmt/", "--prefix", "--keys-only", "--limit=1", "-w", w);
            await Same("get", "fmt/", "--prefix", "--sort-by=VALUE", "--order=DESCEND", "-w", w);
            await Same("get", "fmt/none", "-w", w);
            await Same("del", "fmt/none", "--prev-kv", "-w", w);
            await Same("del", "fmt/b", "--prev-kv", "-w", w);
            await Same("del", "fmt/\u00ff", "-w", w);
            var txn = $"val(\"fmt/a\") = \"w-{w}\"\nver(\"fmt/a\") > \"1\"\n\nput fmt/t {w}\nget fmt/a\ndel fmt/none --prev-kv\n\nget fmt/t\n\n";
            await SameIn(txn, "txn", "-i", "-w", w);
            await SameIn(txn, "txn", "-i", "--hex", "-w", w);
        }

        await Same("get", "fmt/", "--prefix", "-w", "yaml");
        await SameProtobufAsync(V3.PutResponse.Parser, "put", "fmt/p", "1", "--prev-kv", "-w", "protobuf");
        await SameProtobufAsync(V3.PutResponse.Parser, "put", "fmt/p", "2", "--prev-kv", "-w", "protobuf");
        await SameProtobufAsync(V3.RangeResponse.Parser, "get", "fmt/", "--prefix", "-w", "protobuf");
        await SameProtobufAsync(V3.DeleteRangeResponse.Parser, "del", "fmt/", "--prefix", "--prev-kv", "-w", "protobuf");
    }

    [Fact]
    public async Task LeaseCommandsPrintEveryFormatAsEtcd()
    {
        // The same lease ID on both (etcdctl lease grant lets the server choose: a random ID on each).
        const long id = 0x7e57_1ea5_e000_0001;
        const string hex = "7e571ea5e0000001";
        foreach (var side in new[] { fixture.Etcd, fixture.RaftKv })
        {
            await side.Lease.LeaseGrantAsync(new V3.LeaseGrantRequest { ID = id, TTL = 600 }, deadline: DateTime.UtcNow.AddSeconds(20));
        }

        try
        {
            await Same("put", "lease/a", "1", "--lease=" + hex);
            await Same("put", "lease/b", "2", "-w", "json"); // one key on the lease: etcd lists them in Go's map order
            await Same("put", "lease/a", "3", "--ignore-lease", "-w", "json");
            await Same("get", "lease/", "--prefix", "-w", "fields");
            foreach (var w in Formats)
            {
                // The remaining TTL may be a second apart between the two servers: compared as N.
                await EtcdctlDiff.AssertSameAsync(fixture, null, _ => RemainingTtl, "lease", "timetolive", hex, "--keys", "-w", w);
                await EtcdctlDiff.AssertSameAsync(fixture, null, _ => RemainingTtl, "lease", "timetolive", hex, "-w", w);
                await Same("lease", "keep-alive", "--once", hex, "-w", w);
                await Same("lease", "list", "-w", w);
                await Same("lease", "timetolive", "0000000000000abc", "-w", w);
            }

            // etcdctl 3.4 prints only the response header of these in protobuf.
            await SameProtobufAsync(V3.ResponseHeader.Parser, "lease", "list", "-w", "protobuf");
            await SameProtobufAsync(V3.ResponseHeader.Parser, "lease", "timetolive", hex, "-w", "protobuf");

            await Same("lease", "revoke", hex, "-w", "json");
            await Same("get", "lease/", "--prefix", "-w", "json");
            await Same("lease", "revoke", hex);
            await Same("lease", "keep-alive", "--once", hex);
            await Same("lease", "timetolive", hex, "--keys", "-w", "json");
        }
        finally
        {
            foreach (var side in new[] { fixture.Etcd, fixture.RaftKv })
            {
                try
                {
                    await side.Lease.LeaseRevokeAsync(new V3.LeaseRevokeRequest { ID = id }, deadline: DateTime.UtcNow.AddSeconds(20));
                }
                catch (Grpc.Core.RpcException)
                {
                }
            }
        }
    }

    [Fact]
    public async Task UserAndRoleCommandsPrintEveryFormatAsEtcd()
    {
        await Same("user", "add", "fmt-user:pw", "--interactive=false");
        await Same("role", "add", "fmt-role");
        await Same("role", "grant-permission", "fmt-role", "--prefix=true", "readwrite", "/app/");
        await Same("role", "grant-permission", "fmt-role", "read", "k1", "k9");
        await Same("role", "grant-permission", "fmt-role", "write", "--from-key", "z");
        await Same("role", "grant-permission", "fmt-role", "bogus", "a");
        await Same("user", "grant-role", "fmt-user", "fmt-role");
        try
        {
            foreach (var w in Formats)
            {
                await Same("user", "get", "fmt-user", "-w", w);
                await Same("user", "get", "fmt-user", "--detail", "-w", w);
                await Same("role", "get", "fmt-role", "-w", w);
                await Same("user", "list", "-w", w);
                await Same("role", "list", "-w", w);
            }

            await SameProtobufAsync(V3.AuthUserGetResponse.Parser, "user", "get", "fmt-user", "-w", "protobuf");
            await SameProtobufAsync(V3.AuthRoleGetResponse.Parser, "role", "get", "fmt-role", "-w", "protobuf");
            await SameProtobufAsync(V3.AuthUserListResponse.Parser, "user", "list", "-w", "protobuf");
            await SameProtobufAsync(V3.AuthRoleListResponse.Parser, "role", "list", "-w", "protobuf");
            await Same("user", "get", "nobody");
            await Same("role", "get", "nobody");
            await Same("user", "grant-role", "fmt-user", "nobody");
            await Same("role", "revoke-permission", "fmt-role", "not-granted");
            await Same("role", "revoke-permission", "fmt-role", "k1", "k9");
            await Same("user", "revoke-role", "fmt-user", "fmt-role");
            await Same("user", "revoke-role", "fmt-user", "fmt-role");
            await Same("user", "add", "fmt-user:again", "--interactive=false");
        }
        finally
        {
            await Same("user", "delete", "fmt-user");
            await Same("role", "delete", "fmt-role");
        }

        await Same("user", "delete", "fmt-user");
        await Same("role", "delete", "fmt-role");
    }

    [Fact]
    public async Task ClusterAndMaintenanceCommandsPrintEtcdsShapeInEveryFormat()
    {
        // A key space that is not empty: RaftKv's hash of an empty one is 0, which etcdctl -w json leaves out
        // (docs/api.md, "Differences from etcd"); etcd's hash covers its history, never empty.
        await Same("put", "shape/k", "v");
        var etcd = await EtcdctlDiff.IdentityAsync(fixture.Etcd);
        var raftkv = await EtcdctlDiff.IdentityAsync(fixture.RaftKv);
        Func<DiffSide, Func<string, string>> shape = s => EtcdctlDiff.Shape(s == fixture.Etcd ? etcd : raftkv);
        string[][] commands =
        [
            ["member", "list"], ["member", "list", "--hex"],
            ["endpoint", "status"], ["endpoint", "status", "--cluster"],
            ["endpoint", "health"], ["endpoint", "health", "--cluster"],
            ["endpoint", "hashkv"], ["endpoint", "hashkv", "--cluster"], ["endpoint", "hashkv", "--rev=2"],
        ];
        foreach (var w in Formats.Append("protobuf"))
        {
            foreach (var command in commands)
            {
                if (command[0] == "member" && w == "protobuf")
                {
                    continue; // binary, compared decoded below
                }

                await EtcdctlDiff.AssertSameAsync(fixture, null, shape, [.. command, "-w", w]);
            }
        }

        var lists = new List<V3.MemberListResponse>();
        foreach (var side in new[] { fixture.Etcd, fixture.RaftKv })
        {
            var (code, bytes, err) = await Etcdctl.RunBytesAsync(side.Endpoint, "member", "list", "-w", "protobuf");
            Assert.True(code == 0, err);
            lists.Add(V3.MemberListResponse.Parser.ParseFrom(bytes));
        }

        Assert.All(lists, l => Assert.True(l.Header.ClusterId != 0 && l.Header.MemberId != 0 && l.Header.RaftTerm != 0, l.ToString()));
        Assert.Equal(lists[0].Members.Count, lists[1].Members.Count);
        Assert.All(lists.SelectMany(l => l.Members), m => Assert.True(m.ID != 0 && m.Name.Length > 0 && m.PeerURLs.Count == 1 && m.ClientURLs.Count == 1 && !m.IsLearner, m.ToString()));

        // alarm list: no alarm on either (simple prints nothing). etcd 3.4's JSON answer has no header (and its fields
        // form crashes etcdctl); RaftKv's carries one (docs/api.md, "Differences from etcd").
        await Same("alarm", "list");
        await Same("alarm", "list", "-w", "table");
        await Same("alarm", "disarm");
        Assert.Equal("{}", (await Etcdctl.RunAsync(fixture.Etcd.Endpoint, "alarm", "list", "-w", "json")).Ok().Out.Trim());
        Assert.True((await Etcdctl.RunAsync(fixture.RaftKv.Endpoint, "alarm", "list", "-w", "json")).Ok().Json.GetProperty("header").GetProperty("member_id").GetUInt64() != 0);
        await Same("version");
        await Same("defrag");
        await EtcdctlDiff.AssertSameAsync(fixture, null, shape, "defrag", "--cluster");
        var ids = new Dictionary<DiffSide, string> { [fixture.Etcd] = await EtcdctlDiff.MemberIdAsync(fixture.Etcd), [fixture.RaftKv] = await EtcdctlDiff.MemberIdAsync(fixture.RaftKv) };
        await EtcdctlDiff.AssertSamePerSideAsync(fixture, s => ["move-leader", ids[s]], shape);
        await EtcdctlDiff.AssertSameAsync(fixture, null, shape, "move-leader", "abcdef");
    }

    [Fact]
    public async Task SnapshotSaveAndStatusPrintEtcdsShape()
    {
        await Same("put", "snap/a", "1");
        await Same("put", "snap/b", "2");
        var dir = Path.Combine(Path.GetTempPath(), "raftkv-etcdctl-snap-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(dir);
        try
        {
            var files = new Dictionary<DiffSide, string>();
            foreach (var side in new[] { fixture.Etcd, fixture.RaftKv })
            {
                files[side] = Path.Combine(dir, side.Name + ".db");
                var save = (await Etcdctl.RunAsync(side.Endpoint, "snapshot", "save", files[side])).Ok();
                Assert.Equal($"Snapshot saved at {files[side]}\n", save.Out);
            }

            // The revision is the same on both; the hash, key count and size are each server's own backend's.
            var revision = (await Etcdctl.RunAsync(fixture.Etcd.Endpoint, "get", "snap/a", "-w", "json")).Ok().Json.GetProperty("header").GetProperty("revision").GetInt64();
            foreach (var w in Formats.Append("protobuf"))
            {
                var outputs = new List<string>();
                foreach (var side in new[] { fixture.Etcd, fixture.RaftKv })
                {
                    var status = await Etcdctl.RunAsync(side.Endpoint, "snapshot", "status", files[side], "-w", w);
                    outputs.Add(EtcdctlDiff.Shape(new Dictionary<string, string>())(EtcdctlDiff.Normal(status, side.Endpoint)));
                    if (w == "json")
                    {
                        Assert.Equal(revision, status.Ok().Json.GetProperty("revision").GetInt64());
                    }
                }

                Assert.Equal(outputs[0], outputs[1]);
            }

            // Bad input: a directory that does not exist, a missing file, two endpoints.
            await EtcdctlDiff.AssertSameAsync(fixture, null, _ => t => t.Replace(dir, "DIR", StringComparison.Ordinal), "snapshot", "save", Path.Combine(dir, "no", "such.db"));
            await EtcdctlDiff.AssertSameAsync(fixture, null, _ => t => t.Replace(dir, "DIR", StringComparison.Ordinal), "snapshot", "status", Path.Combine(dir, "missing.db"));
            await Same("snapshot", "save");
            var two = await Etcdctl.RunAsync($"{fixture.Etcd.Endpoint},{fixture.RaftKv.Endpoint}", "snapshot", "save", Path.Combine(dir, "two.db"));
            Assert.Equal(5, two.Code);
            Assert.Contains("snapshot must be requested to one selected node, not multiple", two.Err, StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    /// <summary>Each side's -w protobuf answer, decoded, with the response headers' ids and term cleared.</summary>
    private async Task SameProtobufAsync<T>(MessageParser<T> parser, params string[] args)
        where T : IMessage<T>
    {
        var answers = new List<string>();
        foreach (var side in new[] { fixture.Etcd, fixture.RaftKv })
        {
            var (code, bytes, err) = await Etcdctl.RunBytesAsync(side.Endpoint, args);
            Assert.True(code == 0, $"{side.Name}: etcdctl {string.Join(' ', args)} exited {code}: {err}");
            answers.Add(JsonFormatter.Default.Format(DiffSide.ClearHeaders(parser.ParseFrom(bytes))));
        }

        Assert.Equal(answers[0], answers[1]);
    }

    private static string RemainingTtl(string text) => RemainingPattern().Replace(text, "${name}N");

    [GeneratedRegex("(?<name>remaining\\(|\"ttl\":|\"TTL\" : )[0-9]+")]
    private static partial Regex RemainingPattern();
}
