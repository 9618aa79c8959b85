using System.Text.RegularExpressions;
using Etcdserverpb;
using Google.Protobuf;
using V3Electionpb;
using V3Lockpb;

namespace RaftKv.EndToEnd.Tests.Etcd.Clients;

/// <summary>dotnet-etcd's Lock and Election surface (Lock/Unlock, Campaign/Proclaim/Leader/Observe/Resign, every
/// overload, with missing leases, bad leader keys and a lock that is held) against a real etcd 3.4 and RaftKv: the same
/// answers and etcd's errors. Leases are granted with explicit ids so the keys (name/&lt;lease id in hex&gt;) are the
/// same on both sides; the session lease of lease 0 is each server's own (its hex is cleared).</summary>
public sealed class DotnetEtcdConcurrencySurfaceTests(DotnetEtcdDiffFixture fixture) : IClassFixture<DotnetEtcdDiffFixture>
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(30);

    private static ByteString B(string s) => ByteString.CopyFromUtf8(s);

    /// <summary>Starts a call that waits behind the holder of <paramref name="prefix"/> (a lock waiter, a second candidate),
    /// cancels it once its key is queued (a second key under the prefix) and returns its outcome. Before, the call ended at a
    /// 2 s deadline, which on a loaded machine could come while the server was still writing the waiter's key: the create
    /// failed with the deadline, and neither etcd nor RaftKv deletes a key whose create failed (etcd's Mutex.Lock cleans up
    /// only a failed wait), so the key stayed until its lease ended.</summary>
    private static async Task<T> CancelledOnceQueuedAsync<T>(dotnet_etcd.EtcdClient client, string prefix, Func<CancellationToken, Task<T>> call)
    {
        using var cancel = new CancellationTokenSource();
        var waiting = call(cancel.Token);
        await Eventually.TrueAsync(async () => waiting.IsCompleted || (await client.GetRangeAsync(prefix)).Count == 2, Deadline, $"the waiter's key is queued under {prefix}");
        await cancel.CancelAsync();
        return await waiting;
    }

    [Fact]
    public async Task LockAndUnlockAnswerAsEtcd()
    {
        await fixture.SameAsync("grant", c => c.LeaseGrantAsync(new LeaseGrantRequest { ID = 0x5101, TTL = 600 }));
        await fixture.SameAsync("grant", c => c.LeaseGrantAsync(new LeaseGrantRequest { ID = 0x5102, TTL = 600 }));
        await fixture.SameAsync("lock(name, lease)", c => c.LockAsync("lk/a", 0x5101));
        await fixture.SameAsync("lock again with the same lease", c => c.LockAsync(new LockRequest { Name = B("lk/a"), Lease = 0x5101 }));
        await fixture.SameAsync("lock (sync) another name", c => Task.FromResult(c.Lock("lk/b", 0x5102)));
        await fixture.SameAsync("lock with a missing lease", c => c.LockAsync("lk/a", 0x9999));
        await fixture.SameAsync("lock held by another lease, cancelled once waiting", c => CancelledOnceQueuedAsync(c, "lk/a/", token => c.LockAsync("lk/a", 0x5102, cancellationToken: token)));
        // Each server deletes the waiter's key once it sees the call cancelled, a moment later (a proposal of its own):
        // wait for that on both sides, then compare.
        foreach (var side in new[] { fixture.Etcd, fixture.RaftKv })
        {
            await Eventually.TrueAsync(async () => (await side.GetRangeAsync("lk/a/")).Count == 1, Deadline, "the waiter's key is deleted");
        }

        await fixture.SameAsync("the waiter's key is gone after its deadline", c => c.GetRangeAsync("lk/a/"));
        await fixture.SameAsync("lock with an empty name", c => c.LockAsync(new LockRequest { Name = ByteString.Empty, Lease = 0x5102 }));
        await fixture.SameAsync("unlock(key)", c => c.UnlockAsync("lk/a/5101"));
        await fixture.SameAsync("unlock (request) a missing key", c => c.UnlockAsync(new UnlockRequest { Key = B("lk/a/5101") }));
        await fixture.SameAsync("unlock (sync) an empty key", c => Task.FromResult(c.Unlock(new UnlockRequest())));
        await fixture.SameAsync("unlock the empty name's", c => c.UnlockAsync(new UnlockRequest { Key = B("/5102") }));
#pragma warning disable CS0618 // the overload without a lease (obsolete in dotnet-etcd) is part of the surface
        await fixture.SameAsync("lock(name) with a session lease", c => c.LockAsync("lk/c"), r =>
        {
            Assert.StartsWith("lk/c/", r.Key.ToStringUtf8(), StringComparison.Ordinal);
            r.Key = B("lk/c/session");
            return r;
        });
#pragma warning restore CS0618
        await fixture.SameAsync("unlock lk/b", c => c.UnlockAsync("lk/b/5102"));
        await fixture.SameAsync("what is left", c => c.GetRangeAsync("lk/"), r =>
        {
            foreach (var kv in r.Kvs)
            {
                kv.Key = B(Regex.Replace(kv.Key.ToStringUtf8(), "^lk/c/[0-9a-f]+$", "lk/c/session"));
                kv.Lease = kv.Lease == 0 ? 0 : 1;
            }

            return r;
        });
        await fixture.SameAsync("revoke", c => c.LeaseRevokeAsync(new LeaseRevokeRequest { ID = 0x5101 }));
        await fixture.SameAsync("revoke", c => c.LeaseRevokeAsync(new LeaseRevokeRequest { ID = 0x5102 }));
    }

    [Fact]
    public async Task ElectionAnswersAsEtcd()
    {
        await fixture.SameAsync("grant", c => c.LeaseGrantAsync(new LeaseGrantRequest { ID = 0x5201, TTL = 600 }));
        await fixture.SameAsync("grant", c => c.LeaseGrantAsync(new LeaseGrantRequest { ID = 0x5202, TTL = 600 }));
        await fixture.SameAsync("leader of no election", c => c.LeaderAsync("el/a"));
        await fixture.SameAsync("campaign with a missing lease", c => c.CampaignAsync("el/a", 0x9999, "v0"));
        await fixture.SameAsync("campaign(name, lease, value)", c => c.CampaignAsync("el/a", 0x5201, "v1"));
        var leader = (await fixture.Etcd.LeaderAsync("el/a")).Kv;
        var key = new LeaderKey { Name = B("el/a"), Key = B("el/a/5201"), Rev = leader.CreateRevision, Lease = 0x5201 };
        await fixture.SameAsync("leader(name)", c => c.LeaderAsync("el/a"));
        await fixture.SameAsync("leader (sync, request)", c => Task.FromResult(c.Leader(new LeaderRequest { Name = B("el/a") })));
        await fixture.SameAsync("re-campaign with the same lease and another value", c => c.CampaignAsync(new CampaignRequest { Name = B("el/a"), Lease = 0x5201, Value = B("v2") }));
        await fixture.SameAsync("a second candidate, cancelled once waiting", c => CancelledOnceQueuedAsync(c, "el/a/", token => c.CampaignAsync(new CampaignRequest { Name = B("el/a"), Lease = 0x5202, Value = B("w") }, cancellationToken: token)));
        foreach (var side in new[] { fixture.Etcd, fixture.RaftKv })
        {
            // The cancelled candidate's key is deleted a moment after its cancellation (as the lock waiter's above).
            await Eventually.TrueAsync(async () => (await side.GetRangeAsync("el/a/")).Count == 1, Deadline, "the second candidate's key is deleted");
        }

        await fixture.SameAsync("proclaim(leader, value)", c => c.ProclaimAsync(key, "v3"));
        await fixture.SameAsync("proclaim with a wrong rev", c => c.ProclaimAsync(new LeaderKey(key) { Rev = key.Rev + 100 }, "x"));
        await fixture.SameAsync("proclaim with a wrong key", c => c.ProclaimAsync(new LeaderKey(key) { Key = B("el/a/9999") }, "x"));
        await fixture.SameAsync("proclaim without a leader", c => c.ProclaimAsync(new ProclaimRequest { Value = B("x") }));
        await fixture.SameAsync("proclaim (sync, request)", c => Task.FromResult(c.Proclaim(new ProclaimRequest { Leader = key, Value = B("v4") })));
        await fixture.SameAsync("leader after the proclaims", c => c.LeaderAsync("el/a"));

        // Observe: the leader's key-value now, then each new value, until the caller ends it.
        foreach (var client in new[] { fixture.Etcd, fixture.RaftKv })
        {
            using var cts = new CancellationTokenSource(Deadline);
            await using var observed = client.ObserveAsync("el/a", cancellationToken: cts.Token).GetAsyncEnumerator(cts.Token);
            Assert.True(await observed.MoveNextAsync());
            Assert.Equal("v4", observed.Current.Kv.Value.ToStringUtf8());
            await client.ProclaimAsync(key, "v5");
            Assert.True(await observed.MoveNextAsync());
            Assert.Equal("v5", observed.Current.Kv.Value.ToStringUtf8());
            Assert.Equal(leader.CreateRevision, observed.Current.Kv.CreateRevision);
            await cts.CancelAsync();
        }

        await fixture.SameAsync("observe (request) without a leader ends at the deadline", async c =>
        {
            var got = new List<string>();
            using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(1));
            try
            {
                await foreach (var r in c.ObserveAsync(new LeaderRequest { Name = B("el/none") }, cancellationToken: cts.Token))
                {
                    got.Add(r.Kv.Key.ToStringUtf8());
                }
            }
            catch (Exception e) when (e is OperationCanceledException or Grpc.Core.RpcException { StatusCode: Grpc.Core.StatusCode.Cancelled })
            {
                got.Add("cancelled");
            }

            return got;
        });
        await fixture.SameAsync("resign with a wrong rev", c => c.ResignAsync(new LeaderKey(key) { Rev = key.Rev + 100 }));
        await fixture.SameAsync("resign without a leader", c => c.ResignAsync(new ResignRequest()));
        await fixture.SameAsync("resign(leader)", c => c.ResignAsync(key));
        await fixture.SameAsync("resign (sync) again", c => Task.FromResult(c.Resign(new ResignRequest { Leader = key })));
        await fixture.SameAsync("leader after the resign", c => c.LeaderAsync("el/a"));
#pragma warning disable CS0618 // the overload without a lease (obsolete in dotnet-etcd) is part of the surface
        await fixture.SameAsync("campaign(name, value) with a session lease", c => c.CampaignAsync("el/b", "s"), r =>
        {
            Assert.StartsWith("el/b/", r.Leader.Key.ToStringUtf8(), StringComparison.Ordinal);
            r.Leader.Key = B("el/b/session");
            r.Leader.Lease = 1;
            return r;
        });
#pragma warning restore CS0618
        await fixture.SameAsync("revoke", c => c.LeaseRevokeAsync(new LeaseRevokeRequest { ID = 0x5201 }));
        await fixture.SameAsync("revoke", c => c.LeaseRevokeAsync(new LeaseRevokeRequest { ID = 0x5202 }));
        await fixture.SameAsync("leader of a resigned election", c => c.LeaderAsync("el/a"));
    }
}
