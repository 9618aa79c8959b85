using Google.Protobuf;
using Xunit.Abstractions;
using V3 = RaftKv.Protocol.Etcd;
using V3Election = RaftKv.Protocol.Etcd.V3Election;
using V3Lock = RaftKv.Protocol.Etcd.V3Lock;

namespace RaftKv.EndToEnd.Tests.Etcd.Differential;

/// <summary>
/// Differential test of etcd's Lock and Election services against a real etcd 3.4: one fixed script of calls
/// (re-entrant lock, a second contender that waits for Unlock, unknown lease, empty key and name; campaign,
/// re-campaign with a new value, a waiting candidate elected on resign, proclaim and resign by a stale leader,
/// missing leader, no leader; an Observe stream through two leaders) runs on etcd, then on RaftKv, and every
/// answer must be the same after <see cref="DiffSide.OutcomeAsync"/>'s normalization (header ids cleared; the
/// revision stays: both start empty and get the same writes; errors by code and text). Leases have fixed ids so
/// the candidate keys match.
/// </summary>
public sealed class EtcdLockElectionDifferentialTests(DiffFixture fixture, ITestOutputHelper output) : IClassFixture<DiffFixture>
{
    private const long LeaseA = 0x1a2b, LeaseB = 0x3c4d;

    [Fact]
    public async Task LockAndElectionAnswerAsEtcdDoes()
    {
        var etcd = await ScriptAsync(fixture.Etcd);
        var raftkv = await ScriptAsync(fixture.RaftKv);
        for (var i = 0; i < Math.Max(etcd.Count, raftkv.Count); i++)
        {
            output.WriteLine($"{i}: etcd   {At(etcd, i)}\n{i}: raftkv {At(raftkv, i)}");
        }

        Assert.Equal(etcd, raftkv);
    }

    private static string At(List<string> l, int i) => i < l.Count ? l[i] : "(none)";

    private static async Task<List<string>> ScriptAsync(DiffSide s)
    {
        var log = new List<string>();
        async Task Step<T>(string what, Func<Task<T>> call, Func<T, T>? normalize = null)
            where T : IMessage<T>
            => log.Add(what + " -> " + await DiffSide.OutcomeAsync(call, normalize));

        await Step("grant A", async () => await s.Lease.LeaseGrantAsync(new V3.LeaseGrantRequest { ID = LeaseA, TTL = 600 }, deadline: Deadline()));
        await Step("grant B", async () => await s.Lease.LeaseGrantAsync(new V3.LeaseGrantRequest { ID = LeaseB, TTL = 600 }, deadline: Deadline()));

        // Lock: uncontended, re-entrant with the same lease, a contender that waits for the holder's Unlock.
        await Step("lock A", () => LockAsync(s, "dl", LeaseA));
        await Step("lock A again", () => LockAsync(s, "dl", LeaseA));
        var contender = LockAsync(s, "dl", LeaseB);
        await WaitKeyAsync(s, "dl/" + LeaseB.ToString("x", System.Globalization.CultureInfo.InvariantCulture));
        Assert.False(contender.IsCompleted, $"{s.Name}: the second contender got the lock while the first held it");
        await Step("unlock A", async () => await s.Lock.UnlockAsync(new V3Lock.UnlockRequest { Key = Utf8("dl/1a2b") }, deadline: Deadline()));
        await Step("lock B (waited)", () => contender);
        await Step("unlock B", async () => await s.Lock.UnlockAsync(new V3Lock.UnlockRequest { Key = Utf8("dl/3c4d") }, deadline: Deadline()));
        await Step("unlock missing", async () => await s.Lock.UnlockAsync(new V3Lock.UnlockRequest { Key = Utf8("dl/ffff") }, deadline: Deadline()));
        await Step("unlock empty key", async () => await s.Lock.UnlockAsync(new V3Lock.UnlockRequest(), deadline: Deadline()));
        await Step("lock unknown lease", () => LockAsync(s, "dl", 0x7777));
        await Step("lock empty name", () => LockAsync(s, string.Empty, LeaseA));
        await Step("unlock empty name", async () => await s.Lock.UnlockAsync(new V3Lock.UnlockRequest { Key = Utf8("/1a2b") }, deadline: Deadline()));

        // Election.
        await Step("leader none", async () => await s.Election.LeaderAsync(new V3Election.LeaderRequest { Name = Utf8("de") }, deadline: Deadline()));
        var a = await s.Election.CampaignAsync(new V3Election.CampaignRequest { Name = Utf8("de"), Lease = LeaseA, Value = Utf8("a1") }, deadline: Deadline());
        log.Add("campaign A -> " + Json(a));
        await Step("campaign A again, new value", async () => await s.Election.CampaignAsync(new V3Election.CampaignRequest { Name = Utf8("de"), Lease = LeaseA, Value = Utf8("a2") }, deadline: Deadline()));
        await Step("leader a2", async () => await s.Election.LeaderAsync(new V3Election.LeaderRequest { Name = Utf8("de") }, deadline: Deadline()));
        var candidate = s.Election.CampaignAsync(new V3Election.CampaignRequest { Name = Utf8("de"), Lease = LeaseB, Value = Utf8("b1") }, deadline: Deadline()).ResponseAsync;
        await WaitKeyAsync(s, "de/3c4d");
        Assert.False(candidate.IsCompleted, $"{s.Name}: the second candidate was elected while the first led");
        await Step("proclaim a3", async () => await s.Election.ProclaimAsync(new V3Election.ProclaimRequest { Leader = a.Leader, Value = Utf8("a3") }, deadline: Deadline()));
        await Step("leader a3", async () => await s.Election.LeaderAsync(new V3Election.LeaderRequest { Name = Utf8("de") }, deadline: Deadline()));
        await Step("resign A", async () => await s.Election.ResignAsync(new V3Election.ResignRequest { Leader = a.Leader }, deadline: Deadline()));
        await Step("campaign B (waited)", () => candidate);
        await Step("leader b1", async () => await s.Election.LeaderAsync(new V3Election.LeaderRequest { Name = Utf8("de") }, deadline: Deadline()));
        await Step("proclaim by stale A", async () => await s.Election.ProclaimAsync(new V3Election.ProclaimRequest { Leader = a.Leader, Value = Utf8("x") }, deadline: Deadline()));
        await Step("resign by stale A", async () => await s.Election.ResignAsync(new V3Election.ResignRequest { Leader = a.Leader }, deadline: Deadline()));
        await Step("proclaim without leader", async () => await s.Election.ProclaimAsync(new V3Election.ProclaimRequest { Value = Utf8("x") }, deadline: Deadline()));
        await Step("resign without leader", async () => await s.Election.ResignAsync(new V3Election.ResignRequest(), deadline: Deadline()));
        await Step("leader empty name", async () => await s.Election.LeaderAsync(new V3Election.LeaderRequest(), deadline: Deadline()));
        await Step("campaign unknown lease", async () => await s.Election.CampaignAsync(new V3Election.CampaignRequest { Name = Utf8("de"), Lease = 0x7777, Value = Utf8("z") }, deadline: Deadline()));

        // Observe: no leader yet (waits for the first put), a proclaim, resign, the next leader.
        log.AddRange(await ObserveAsync(s));
        return log;
    }

    private static async Task<List<string>> ObserveAsync(DiffSide s)
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        using var stream = s.Election.Observe(new V3Election.LeaderRequest { Name = Utf8("do") }, cancellationToken: cts.Token);
        var seen = new List<string>();
        var reader = Task.Run(async () =>
        {
            while (seen.Count < 4 && await stream.ResponseStream.MoveNext(cts.Token))
            {
                var r = stream.ResponseStream.Current;
                lock (seen)
                {
                    seen.Add("observe -> " + r.Kv.Key.ToStringUtf8() + "=" + r.Kv.Value.ToStringUtf8() + $" create {r.Kv.CreateRevision} mod {r.Kv.ModRevision} version {r.Kv.Version} lease {r.Kv.Lease}");
                }
            }
        });

        // The stream is open once the server read "no leader" (no event to wait for): a first campaign is seen either way.
        var x = await s.Election.CampaignAsync(new V3Election.CampaignRequest { Name = Utf8("do"), Lease = LeaseA, Value = Utf8("x1") }, deadline: Deadline());
        await WaitCountAsync(seen, 1, reader);
        await s.Election.ProclaimAsync(new V3Election.ProclaimRequest { Leader = x.Leader, Value = Utf8("x2") }, deadline: Deadline());
        await WaitCountAsync(seen, 2, reader);
        var y = s.Election.CampaignAsync(new V3Election.CampaignRequest { Name = Utf8("do"), Lease = LeaseB, Value = Utf8("y1") }, deadline: Deadline()).ResponseAsync;
        await WaitKeyAsync(s, "do/3c4d");
        await s.Election.ResignAsync(new V3Election.ResignRequest { Leader = x.Leader }, deadline: Deadline());
        await y;
        await WaitCountAsync(seen, 3, reader);
        await s.Election.ProclaimAsync(new V3Election.ProclaimRequest { Leader = (await y).Leader, Value = Utf8("y2") }, deadline: Deadline());
        await reader.WaitAsync(cts.Token);
        return seen;
    }

    private static async Task WaitCountAsync(List<string> seen, int count, Task reader)
    {
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (true)
        {
            lock (seen)
            {
                if (seen.Count >= count)
                {
                    return;
                }
            }

            Assert.True(DateTime.UtcNow < deadline && !reader.IsFaulted, $"observe: {seen.Count} of {count} responses; reader {reader.Status} {reader.Exception}");
            await Task.Delay(Poll.Interval);
        }
    }

    private static async Task<V3Lock.LockResponse> LockAsync(DiffSide s, string name, long lease)
        => await s.Lock.LockAsync(new V3Lock.LockRequest { Name = Utf8(name), Lease = lease }, deadline: Deadline());

    private static async Task WaitKeyAsync(DiffSide s, string key)
    {
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while ((await s.Kv.RangeAsync(new V3.RangeRequest { Key = Utf8(key) }, deadline: Deadline())).Count == 0)
        {
            Assert.True(DateTime.UtcNow < deadline, $"{s.Name}: {key} never created");
            await Task.Delay(Poll.Interval);
        }
    }

    private static string Json<T>(T m)
        where T : IMessage<T> => JsonFormatter.Default.Format(DiffSide.ClearHeaders(m));

    private static ByteString Utf8(string s) => ByteString.CopyFromUtf8(s);

    private static DateTime Deadline() => DateTime.UtcNow.AddSeconds(60);
}
