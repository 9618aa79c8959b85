using System.Collections.Concurrent;
using dotnet_etcd;
using Etcdserverpb;
using Google.Protobuf;

namespace RaftKv.EndToEnd.Tests.Etcd.Clients;

/// <summary>dotnet-etcd's Lease surface (LeaseGrant, LeaseRevoke, every LeaseKeepAlive overload — the one-shot streams,
/// the streaming keep-alive loops — LeaseTimeToLive with keys, LeaseLeases) with good and bad arguments against a real
/// etcd 3.4 and RaftKv: the same answers, errors and stream endings (<see cref="DotnetEtcdDiffFixture"/>). Remaining TTLs
/// are compared as "alive" (between 1 and the granted TTL): how many seconds are left is the clock's.</summary>
public sealed class DotnetEtcdLeaseSurfaceTests(DotnetEtcdDiffFixture fixture) : IClassFixture<DotnetEtcdDiffFixture>
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(30);

    private static ByteString B(string s) => ByteString.CopyFromUtf8(s);

    private static LeaseTimeToLiveResponse Alive(LeaseTimeToLiveResponse r, long granted)
    {
        Assert.True(r.TTL <= granted, $"TTL {r.TTL} above the granted {granted}");
        r.TTL = r.TTL > 0 ? 1 : r.TTL;
        var keys = r.Keys.OrderBy(k => k.ToBase64(), StringComparer.Ordinal).ToList(); // etcd lists them from a Go map
        r.Keys.Clear();
        r.Keys.AddRange(keys);
        return r;
    }

    private static LeaseKeepAliveResponse Alive(LeaseKeepAliveResponse r)
    {
        r.TTL = r.TTL > 0 ? 1 : r.TTL;
        return r;
    }

    [Fact]
    public async Task GrantRevokeTimeToLiveAndLeasesAnswerAsEtcd()
    {
        await fixture.SameAsync("grant an id", c => c.LeaseGrantAsync(new LeaseGrantRequest { ID = 8001, TTL = 600 }));
        await fixture.SameAsync("grant it again", c => c.LeaseGrantAsync(new LeaseGrantRequest { ID = 8001, TTL = 600 }));
        await fixture.SameAsync("grant (sync) another", c => Task.FromResult(c.LeaseGrant(new LeaseGrantRequest { ID = 8002, TTL = 300 })));
        await fixture.SameAsync("grant a TTL of 0 (raised to the minimum)", c => c.LeaseGrantAsync(new LeaseGrantRequest { ID = 8003, TTL = 0 }), r =>
        {
            Assert.True(r.TTL >= 2, $"TTL {r.TTL}"); // the minimum TTL: etcd's from its election timeout
            r.TTL = 1;
            return r;
        });
        await fixture.SameAsync("grant a negative TTL", c => c.LeaseGrantAsync(new LeaseGrantRequest { ID = 8004, TTL = -5 }), r =>
        {
            r.TTL = r.TTL > 0 ? 1 : r.TTL;
            return r;
        });
        await fixture.SameAsync("grant a TTL over the maximum", c => c.LeaseGrantAsync(new LeaseGrantRequest { ID = 8005, TTL = 9_000_000_001 }));
        await fixture.SameAsync("grant a TTL at the maximum", c => c.LeaseGrantAsync(new LeaseGrantRequest { ID = 8006, TTL = 9_000_000_000 }));
        await fixture.SameAsync("grant without an id", c => c.LeaseGrantAsync(new LeaseGrantRequest { TTL = 600 }), r =>
        {
            Assert.True(r.ID > 0, $"lease id {r.ID}");
            r.ID = 1; // each server picks its own
            return r;
        });
        await fixture.SameAsync("put with the lease", c => c.PutAsync(new PutRequest { Key = B("l/a"), Value = B("1"), Lease = 8001 }));
        await fixture.SameAsync("put with the lease", c => c.PutAsync(new PutRequest { Key = B("l/b"), Value = B("2"), Lease = 8001 }));
        await fixture.SameAsync("time to live with keys", c => c.LeaseTimeToLiveAsync(new LeaseTimeToLiveRequest { ID = 8001, Keys = true }), r => Alive(r, 600));
        await fixture.SameAsync("time to live (sync) without keys", c => Task.FromResult(c.LeaseTimeToLive(new LeaseTimeToLiveRequest { ID = 8001 })), r => Alive(r, 600));
        await fixture.SameAsync("time to live of a missing lease", c => c.LeaseTimeToLiveAsync(new LeaseTimeToLiveRequest { ID = 9999, Keys = true }));
        await fixture.SameAsync("time to live of lease 0", c => c.LeaseTimeToLiveAsync(new LeaseTimeToLiveRequest { ID = 0 }));
        await fixture.SameAsync("leases", c => c.LeaseLeasesAsync(), r =>
        {
            var ids = r.Leases.Select(l => l.ID).Where(id => id is > 8000 and < 9000).Order().ToList(); // not the server-picked id
            r.Leases.Clear();
            r.Leases.AddRange(ids.Select(id => new LeaseStatus { ID = id }));
            return r;
        });
        await fixture.SameAsync("leases (sync, request)", c => Task.FromResult(c.LeaseLeases(new LeaseLeasesRequest())), r => new LeaseLeasesResponse { Header = r.Header, Leases = { r.Leases.Where(l => l.ID is 8001).Select(l => new LeaseStatus { ID = l.ID }) } });
        await fixture.SameAsync("revoke", c => c.LeaseRevokeAsync(new LeaseRevokeRequest { ID = 8001 }));
        await fixture.SameAsync("its keys are gone", c => c.GetRangeAsync("l/"));
        await fixture.SameAsync("revoke again", c => c.LeaseRevokeAsync(new LeaseRevokeRequest { ID = 8001 }));
        await fixture.SameAsync("revoke (sync) lease 0", c => Task.FromResult(c.LeaseRevoke(new LeaseRevokeRequest { ID = 0 })));
        await fixture.SameAsync("revoke a negative id", c => c.LeaseRevokeAsync(new LeaseRevokeRequest { ID = -3 }));
        await fixture.SameAsync("time to live after the revoke", c => c.LeaseTimeToLiveAsync(new LeaseTimeToLiveRequest { ID = 8001, Keys = true }));
        foreach (var id in new long[] { 8002, 8003, 8004, 8006 })
        {
            await fixture.SameAsync($"revoke {id}", c => c.LeaseRevokeAsync(new LeaseRevokeRequest { ID = id }));
        }
    }

    [Fact]
    public async Task OneShotKeepAliveStreamsAnswerAndEndAsEtcd()
    {
        await fixture.SameAsync("grant", c => c.LeaseGrantAsync(new LeaseGrantRequest { ID = 8101, TTL = 600 }));
        await fixture.SameAsync("grant", c => c.LeaseGrantAsync(new LeaseGrantRequest { ID = 8102, TTL = 300 }));

        // Each overload writes its requests, half-closes, and returns when the server ends the stream (etcd does once it
        // has answered them): a server that kept the stream open would hang it until the deadline.
        async Task<List<string>> Collect(EtcdClient c, Func<EtcdClient, Action<LeaseKeepAliveResponse>, CancellationToken, Task> call)
        {
            var got = new ConcurrentQueue<string>();
            using var cts = new CancellationTokenSource(Deadline);
            await call(c, r => got.Enqueue(DotnetEtcdDiffFixture.Format(Alive(r))), cts.Token);
            return [.. got];
        }

        await fixture.SameAsync("keep-alive(request, method)", c => Collect(c, (c, m, t) => c.LeaseKeepAlive(new LeaseKeepAliveRequest { ID = 8101 }, m, t)));
        await fixture.SameAsync("keep-alive(request, methods[])", c => Collect(c, (c, m, t) => c.LeaseKeepAlive(new LeaseKeepAliveRequest { ID = 8101 }, [m, m], t)));
        await fixture.SameAsync("keep-alive(requests[], method)", c => Collect(c, (c, m, t) => c.LeaseKeepAlive([new LeaseKeepAliveRequest { ID = 8101 }, new LeaseKeepAliveRequest { ID = 8102 }, new LeaseKeepAliveRequest { ID = 8101 }], m, t)));
        await fixture.SameAsync("keep-alive(requests[], methods[])", c => Collect(c, (c, m, t) => c.LeaseKeepAlive([new LeaseKeepAliveRequest { ID = 8102 }], [m], t)));
        await fixture.SameAsync("keep-alive of a missing lease", c => Collect(c, (c, m, t) => c.LeaseKeepAlive(new LeaseKeepAliveRequest { ID = 9999 }, m, t)));
        await fixture.SameAsync("keep-alive of lease 0 and a negative id", c => Collect(c, (c, m, t) => c.LeaseKeepAlive([new LeaseKeepAliveRequest { ID = 0 }, new LeaseKeepAliveRequest { ID = -1 }], m, t)));
        await fixture.SameAsync("keep-alive of no request", c => Collect(c, (c, m, t) => c.LeaseKeepAlive(Array.Empty<LeaseKeepAliveRequest>(), m, t)));
        await fixture.SameAsync("time to live after", c => c.LeaseTimeToLiveAsync(new LeaseTimeToLiveRequest { ID = 8101 }), r => Alive(r, 600));
        await fixture.SameAsync("revoke", c => c.LeaseRevokeAsync(new LeaseRevokeRequest { ID = 8101 }));
        await fixture.SameAsync("revoke", c => c.LeaseRevokeAsync(new LeaseRevokeRequest { ID = 8102 }));
    }

    [Fact]
    public async Task StreamingKeepAliveHoldsTheLeaseAndEndsOnAMissingOne()
    {
        // A short lease (4 s: twice the minimum TTL of both servers' defaults, so a keep-alive delayed a second or two by
        // a loaded machine does not let it lapse; at 2 s it did, under load): kept alive by the streaming overloads past
        // two of its TTLs, it and its key stay; a missing lease ends the loop at once.
        foreach (var client in new[] { fixture.Etcd, fixture.RaftKv })
        {
            var ttl = (await client.LeaseGrantAsync(new LeaseGrantRequest { ID = 8201, TTL = 4 })).TTL;
            await client.LeaseGrantAsync(new LeaseGrantRequest { ID = 8202, TTL = 4 });
            await client.PutAsync(new PutRequest { Key = B("ka/a"), Value = B("1"), Lease = 8201 });
            using var cts = new CancellationTokenSource();
            var loop = client.LeaseKeepAlive(8201, cts.Token);
            var other = new CancellationTokenSource();
            var loop2 = client.LeaseKeepAlive(other, 8202, 500, 5000);
            var until = DateTime.UtcNow.AddSeconds((2 * ttl) + 1);
            while (DateTime.UtcNow < until)
            {
                var left = await client.LeaseTimeToLiveAsync(new LeaseTimeToLiveRequest { ID = 8201, Keys = true });
                Assert.True(left.TTL > 0, $"the lease kept alive expired: {left}");
                Assert.Equal("ka/a", Assert.Single(left.Keys).ToStringUtf8());
                Assert.True((await client.LeaseTimeToLiveAsync(new LeaseTimeToLiveRequest { ID = 8202 })).TTL > 0, "the second lease expired");
                await Task.Delay(Poll.Interval);
            }

            Assert.False(loop.IsCompleted, $"the keep-alive loop ended: {loop.Exception}");
            await cts.CancelAsync();
            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => loop.WaitAsync(Deadline));
            Assert.False(other.IsCancellationRequested);
            await other.CancelAsync();
            await loop2.WaitAsync(Deadline).ContinueWith(_ => { });

            // A missing lease: the server answers TTL 0, on which the loops return.
            using var missing = new CancellationTokenSource(Deadline);
            await client.LeaseKeepAlive(9999, missing.Token).WaitAsync(Deadline);
            var missing2 = new CancellationTokenSource();
            await client.LeaseKeepAlive(missing2, 9998, 500, 5000).WaitAsync(Deadline);
            Assert.True(missing2.IsCancellationRequested, "the loop of a missing lease cancels its token");

            await client.LeaseRevokeAsync(new LeaseRevokeRequest { ID = 8201 });
            await client.LeaseRevokeAsync(new LeaseRevokeRequest { ID = 8202 });
        }

        await fixture.SameAsync("after", c => c.GetRangeAsync("ka/"));
    }
}
