using System.Text.Json;
using dotnet_etcd;
using Etcdserverpb;

namespace RaftKv.EndToEnd.Tests.Etcd.Clients;

/// <summary>dotnet-etcd's Cluster and Maintenance surface (MemberList/Add/AddAsLearner/Remove/Update/Promote with bad
/// ids and URLs, Status, Alarm, Defragment, Hash, HashKV, Snapshot streamed to a file that <c>etcdctl snapshot
/// status</c> must read, MoveLeader, Downgrade) against a real etcd 3.4 and RaftKv. What is each server's own (member
/// ids, names, URLs, versions, sizes, raft indexes, hashes) is cleared before comparing; member ids are each side's.</summary>
public sealed class DotnetEtcdMaintenanceSurfaceTests(DotnetEtcdDiffFixture fixture) : IClassFixture<DotnetEtcdDiffFixture>
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(60);

    private static Member Anonymous(Member m) => new() { IsLearner = m.IsLearner, ID = m.ID == 0 ? 0UL : 1UL };

    private static MemberListResponse Shape(MemberListResponse r)
    {
        var members = r.Members.Select(Anonymous).OrderBy(m => m.IsLearner).ToList();
        r.Members.Clear();
        r.Members.AddRange(members);
        return r;
    }

    private async Task<ulong> MemberIdAsync(EtcdClient c) => (await c.StatusAsync(new StatusRequest())).Header.MemberId;

    [Fact]
    public async Task MembershipCallsWithBadArgumentsAnswerAsEtcd()
    {
        await fixture.SameAsync("member list", c => c.MemberListAsync(new MemberListRequest()), Shape);
        await fixture.SameAsync("member list (sync)", c => Task.FromResult(c.MemberList(new MemberListRequest())), Shape);
        foreach (var id in new ulong[] { 0, 12345 })
        {
            await fixture.SameAsync($"remove {id}", c => c.MemberRemoveAsync(new MemberRemoveRequest { ID = id }));
            await fixture.SameAsync($"update {id}", c => c.MemberUpdateAsync(new MemberUpdateRequest { ID = id, PeerURLs = { "http://127.0.0.1:1" } }));
            await fixture.SameAsync($"promote {id}", c => c.MemberPromoteAsync(id));
            await fixture.SameAsync($"promote (request) {id}", c => c.MemberPromoteAsync(new MemberPromoteRequest { ID = id }));
        }

        await fixture.SameAsync("promote a voter", async c => await c.MemberPromoteAsync(await MemberIdAsync(c)));
        await fixture.SameAsync("add without peer URLs", c => c.MemberAddAsync(new MemberAddRequest()));
        await fixture.SameAsync("add a bad peer URL", c => c.MemberAddAsync(new MemberAddRequest { PeerURLs = { "not a url" }, IsLearner = true }));
        await fixture.SameAsync("add a peer URL without a scheme", c => c.MemberAddAsync(new MemberAddRequest { PeerURLs = { "127.0.0.1:2380" }, IsLearner = true }));
        // A documented difference: etcd 3.4 does not check MemberUpdate's URLs (it stores "not a url" as the member's peer
        // URL, so not sent to it); RaftKv answers as MemberAdd.
        Assert.Equal("ERROR InvalidArgument: etcdserver: given member URLs are invalid", await DotnetEtcdDiffFixture.Outcome(async () => await fixture.RaftKv.MemberUpdateAsync(new MemberUpdateRequest { ID = await MemberIdAsync(fixture.RaftKv), PeerURLs = { "not a url" } })));

        // A learner at an address nothing listens on (a voter there would cost the single member its quorum).
        var port = ServerProcess.FreePort();
        var added = new Dictionary<EtcdClient, ulong>();
        await fixture.SameAsync("add as learner", async c =>
        {
            var r = await c.MemberAddAsLearnerAsync([$"http://127.0.0.1:{port}"]);
            added[c] = r.Member.ID;
            return r;
        }, r =>
        {
            r.Member = Anonymous(r.Member);
            var members = r.Members.Select(Anonymous).OrderBy(m => m.IsLearner).ToList();
            r.Members.Clear();
            r.Members.AddRange(members);
            return r;
        });
        await fixture.SameAsync("member list with the learner", c => c.MemberListAsync(new MemberListRequest()), Shape);
        // etcd 3.4 derives a new member's id from its peer URLs and the time in seconds: within the same second it answers
        // "member ID already exist", later "Peer URLs already exists" (RaftKv's answer).
        Assert.Matches("^ERROR FailedPrecondition: etcdserver: (member ID already exist|Peer URLs already exists)$", await DotnetEtcdDiffFixture.Outcome(() => fixture.Etcd.MemberAddAsync(new MemberAddRequest { PeerURLs = { $"http://127.0.0.1:{port}" }, IsLearner = true })));
        Assert.Equal("ERROR FailedPrecondition: etcdserver: Peer URLs already exists", await DotnetEtcdDiffFixture.Outcome(() => fixture.RaftKv.MemberAddAsync(new MemberAddRequest { PeerURLs = { $"http://127.0.0.1:{port}" }, IsLearner = true })));
        await fixture.SameAsync("a second learner", c => c.MemberAddAsync(new MemberAddRequest { PeerURLs = { $"http://127.0.0.1:{ServerProcess.FreePort()}" }, IsLearner = true }));
        await fixture.SameAsync("promote the learner (not in sync)", c => c.MemberPromoteAsync(added[c]));
        await fixture.SameAsync("remove the learner", c => c.MemberRemoveAsync(new MemberRemoveRequest { ID = added[c] }), r =>
        {
            var members = r.Members.Select(Anonymous).ToList();
            r.Members.Clear();
            r.Members.AddRange(members);
            return r;
        });
        await fixture.SameAsync("remove it again", c => c.MemberRemoveAsync(new MemberRemoveRequest { ID = added[c] }));
        await fixture.SameAsync("member list after", c => c.MemberListAsync(new MemberListRequest()), Shape);
    }

    [Fact]
    public async Task StatusAlarmDefragmentHashMoveLeaderAndDowngradeAnswerAsEtcd()
    {
        await fixture.SameAsync("put", c => c.PutAsync("m/a", "1"));
        await fixture.SameAsync("hash kv at first", c => c.HashKVAsync(new HashKVRequest()), NoHash);
        await fixture.SameAsync("status", c => c.StatusAsync(new StatusRequest()), r =>
        {
            Assert.Equal(r.Header.MemberId, r.Leader); // a single member leads
            Assert.True(r.DbSize > 0 && r.RaftIndex > 0 && r.RaftTerm > 0 && r.Version.Length > 0, r.ToString());
            return new StatusResponse { Header = r.Header, IsLearner = r.IsLearner, Errors = { r.Errors } };
        });

        // Alarm answers: etcd 3.4 sends no header (a documented difference): the alarms alone are compared.
        static AlarmResponse Alarms(AlarmResponse r) => new() { Alarms = { r.Alarms.Select(a => new AlarmMember { Alarm = a.Alarm, MemberID = a.MemberID == 0 ? 0UL : 1UL }) } };
        await fixture.SameAsync("alarm list", c => c.AlarmAsync(new AlarmRequest { Action = AlarmRequest.Types.AlarmAction.Get }), Alarms);
        await fixture.SameAsync("alarm activate NOSPACE", async c => await c.AlarmAsync(new AlarmRequest { Action = AlarmRequest.Types.AlarmAction.Activate, Alarm = AlarmType.Nospace, MemberID = await MemberIdAsync(c) }), Alarms);
        await fixture.SameAsync("alarm list (sync)", c => Task.FromResult(c.Alarm(new AlarmRequest { Action = AlarmRequest.Types.AlarmAction.Get })), Alarms);
        await fixture.SameAsync("put under NOSPACE", c => c.PutAsync("m/b", "1"));
        await fixture.SameAsync("get under NOSPACE", c => c.GetAsync("m/a"));
        await fixture.SameAsync("status under NOSPACE", c => c.StatusAsync(new StatusRequest()), r => new StatusResponse { Errors = { r.Errors.Select(e => System.Text.RegularExpressions.Regex.Replace(e, "memberID:[0-9]+", "memberID:N")) } });
        await fixture.SameAsync("alarm deactivate", async c => await c.AlarmAsync(new AlarmRequest { Action = AlarmRequest.Types.AlarmAction.Deactivate, Alarm = AlarmType.Nospace, MemberID = await MemberIdAsync(c) }), Alarms);
        await fixture.SameAsync("alarm deactivate again", async c => await c.AlarmAsync(new AlarmRequest { Action = AlarmRequest.Types.AlarmAction.Deactivate, Alarm = AlarmType.Nospace, MemberID = await MemberIdAsync(c) }), Alarms);
        await fixture.SameAsync("alarm activate for a missing member", c => c.AlarmAsync(new AlarmRequest { Action = AlarmRequest.Types.AlarmAction.Activate, Alarm = AlarmType.Nospace, MemberID = 4242 }), Alarms);
        await fixture.SameAsync("alarm list after", c => c.AlarmAsync(new AlarmRequest { Action = AlarmRequest.Types.AlarmAction.Get }), Alarms);
        await fixture.SameAsync("put after", c => c.PutAsync("m/b", "2"));
        await fixture.SameAsync("hash kv after the alarms", c => c.HashKVAsync(new HashKVRequest()), NoHash);

        // Defragment's answer carries a header on RaftKv only (documented): compared as done or failed.
        await fixture.SameAsync("defragment", async c => (await c.DefragmentAsync(new DefragmentRequest())).GetType().Name);
        await fixture.SameAsync("defragment (sync)", c => Task.FromResult(c.Defragment(new DefragmentRequest()).GetType().Name));
        await fixture.SameAsync("hash", c => c.HashAsync(new HashRequest()), r =>
        {
            Assert.NotEqual(0U, r.Hash);
            r.Hash = 0; // of each store's own files
            return r;
        });
        await fixture.SameAsync("hash kv (sync)", c => Task.FromResult(c.HashKV(new HashKVRequest())), NoHash);
        await fixture.SameAsync("hash kv of a future revision", c => c.HashKVAsync(new HashKVRequest { Revision = 1000 }));
        await fixture.SameAsync("move leader to a missing member", c => c.MoveLeaderAsync(new MoveLeaderRequest { TargetID = 4242 }));
        await fixture.SameAsync("move leader to 0", c => c.MoveLeaderAsync(new MoveLeaderRequest { TargetID = 0 }));
        // etcd 3.4's MoveLeader answer has no header, RaftKv's has one (documented): the rest is compared.
        await fixture.SameAsync("move leader to itself", async c => await c.MoveLeaderAsync(new MoveLeaderRequest { TargetID = await MemberIdAsync(c) }), _ => new MoveLeaderResponse());
        Assert.Contains("Unimplemented", await DotnetEtcdDiffFixture.Outcome(() => fixture.Etcd.DowngradeAsync(new DowngradeRequest { Action = DowngradeRequest.Types.DowngradeAction.Validate, Version = "3.4" })), StringComparison.Ordinal);
        var downgrade = await DotnetEtcdDiffFixture.Outcome(() => fixture.RaftKv.DowngradeAsync(new DowngradeRequest { Action = DowngradeRequest.Types.DowngradeAction.Validate, Version = "3.4" }));
        Assert.StartsWith("ERROR", downgrade, StringComparison.Ordinal); // etcd 3.4 has no Downgrade (etcd 3.5's): no cluster downgrade either
    }

    [Fact]
    public async Task SnapshotStreamsAFileEtcdctlReads()
    {
        await fixture.SameAsync("put", c => c.PutAsync("snap/a", "1"));
        await fixture.SameAsync("put", c => c.PutAsync("snap/b", "2"));
        var status = new Dictionary<string, JsonElement>();
        foreach (var (name, client) in new[] { ("etcd", fixture.Etcd), ("raftkv", fixture.RaftKv) })
        {
            var file = Path.Combine(Path.GetTempPath(), $"dn-snap-{name}-{Guid.NewGuid():N}.db");
            try
            {
                ulong remaining = ulong.MaxValue;
                var chunks = 0;
                await using (var output = File.Create(file))
                {
                    using var cts = new CancellationTokenSource(Deadline);
                    await client.Snapshot(new SnapshotRequest(), r =>
                    {
                        r.Blob.WriteTo(output);
                        remaining = r.RemainingBytes;
                        chunks++;
                    }, cts.Token);
                }

                Assert.True(chunks > 0, $"{name}: no chunk");
                Assert.Equal(0UL, remaining); // the last chunk says nothing remains
                var result = await Etcdctl.RunAsync(fixture.EtcdEndpoint, "snapshot", "status", file, "-w", "json");
                Assert.True(result.Code == 0, $"{name}: etcdctl snapshot status exited {result.Code}: {result.Out}{result.Err}");
                status[name] = result.Json;
            }
            finally
            {
                File.Delete(file);
            }
        }

        // The same revision and at least the keys written (etcd counts its own meta keys as well).
        Assert.Equal(status["etcd"].GetProperty("revision").GetInt64(), status["raftkv"].GetProperty("revision").GetInt64());
        Assert.True(status["raftkv"].GetProperty("totalKey").GetInt64() >= 2, status["raftkv"].ToString());

        // A snapshot cancelled by the client ends with CANCELLED on both.
        foreach (var client in new[] { fixture.Etcd, fixture.RaftKv })
        {
            using var cts = new CancellationTokenSource();
            await cts.CancelAsync();
            var outcome = await DotnetEtcdDiffFixture.Outcome(async () =>
            {
                await client.Snapshot(new SnapshotRequest(), _ => { }, cts.Token);
                return "done";
            });
            Assert.Contains("Cancel", outcome, StringComparison.Ordinal);
        }
    }

    /// <summary>HashKV's hash is RaftKv's own CRC of its key space (docs/api.md: compare members with each other, not with
    /// etcd): the header and compact revision are compared.</summary>
    private static HashKVResponse NoHash(HashKVResponse r)
    {
        r.Hash = 0;
        return r;
    }
}
