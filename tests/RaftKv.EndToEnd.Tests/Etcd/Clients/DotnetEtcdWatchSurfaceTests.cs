using System.Collections.Concurrent;
using dotnet_etcd;
using Etcdserverpb;
using Google.Protobuf;
using Xunit.Abstractions;

namespace RaftKv.EndToEnd.Tests.Etcd.Clients;

/// <summary>dotnet-etcd's Watch surface (every WatchAsync / Watch / WatchRange overload: single key, range, several
/// watches in one call, start revision, prev_kv, progress notify, filters, cancellation by the client, a compacted start
/// revision) against a real etcd 3.4 and RaftKv: each side records what its callbacks receive (responses with their
/// header revision, watch id, created/canceled flags, cancel reason, compact revision and events), and the records must
/// be equal once a sentinel write has arrived on both (so nothing extra slipped in before it).</summary>
public sealed class DotnetEtcdWatchSurfaceTests(DotnetEtcdDiffFixture fixture, ITestOutputHelper output) : IClassFixture<DotnetEtcdDiffFixture>
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(30);

    private static ByteString B(string s) => ByteString.CopyFromUtf8(s);

    /// <summary>What one side's callbacks received, in order (progress notifications apart).</summary>
    private sealed class Recorder
    {
        private readonly ConcurrentQueue<string> _items = new();
        private int _progress;

        public int Progress => _progress;

        public IReadOnlyList<string> Items => [.. _items];

        public void On(WatchResponse r)
        {
            if (!r.Created && !r.Canceled && r.Events.Count == 0 && r.CompactRevision == 0)
            {
                Interlocked.Increment(ref _progress); // a progress notification: when it comes is the server's timing
                return;
            }

            // Events one by one: how a server batches them into responses (a catch-up batch, say) is its timing.
            var bare = r.Clone();
            bare.Events.Clear();
            if (r.Created || r.Canceled || r.CompactRevision != 0)
            {
                _items.Enqueue(DotnetEtcdDiffFixture.Format(bare));
            }

            foreach (var e in r.Events)
            {
                _items.Enqueue($"watch {r.WatchId}: {DotnetEtcdDiffFixture.Format(e)}");
            }
        }

        public void OnEvents(WatchEvent[] events)
        {
            if (events.Length > 0)
            {
                _items.Enqueue(string.Join("; ", events.Select(e => $"{e.Type} {e.Key}={e.Value}")));
            }
        }

        public void OnEvent(WatchEvent e) => _items.Enqueue($"{e.Type} {e.Key}={e.Value}");
    }

    /// <summary>The watch a recorded item belongs to ("watch N" of an event, the watchId of a response), or the item itself.</summary>
    private static string WatchOf(string item) =>
        item.StartsWith("watch ", StringComparison.Ordinal) ? item.Split(':', 2)[0]
        : System.Text.RegularExpressions.Regex.Match(item, "\"watchId\": \"(\\d+)\"") is { Success: true } m ? "watch " + m.Groups[1].Value
        : item.StartsWith('{') ? "watch 0"
        : item;

    private static void Ignore(WatchResponse r)
    {
    }

    private async Task BothAsync(Func<EtcdClient, Task> write)
    {
        await write(fixture.Etcd);
        await write(fixture.RaftKv);
    }

    /// <summary>Starts the watch on both sides (each with its own recorder), runs <paramref name="writes"/> on both, then
    /// puts <paramref name="sentinel"/> and compares the records once the sentinel's value reached both.</summary>
    /// <remarks>With several watches (<paramref name="several"/>) the order between them is not compared (etcd keeps the
    /// watchers of a key in a Go map): each watch's own responses keep their order (grouped by watch id), and the event
    /// lists of <see cref="WatchEvent"/> callbacks, which carry no id, are compared as sets.</remarks>
    private async Task<IReadOnlyList<string>> SameEventsAsync(string what, Func<EtcdClient, Recorder, Task> watch, Func<EtcdClient, Task> writes, string sentinel, bool several = false, string? until = null)
    {
        var recorders = new Dictionary<EtcdClient, Recorder> { [fixture.Etcd] = new(), [fixture.RaftKv] = new() };
        foreach (var (client, rec) in recorders)
        {
            await watch(client, rec);
        }

        await BothAsync(writes);
        var mark = "sentinel-" + Guid.NewGuid().ToString("N")[..8];
        await BothAsync(c => c.PutAsync(sentinel, mark));
        foreach (var (client, rec) in recorders)
        {
            var expect = until ?? mark;
            try
            {
                await Eventually.TrueAsync(() => rec.Items.Any(i => i.Contains(expect, StringComparison.Ordinal) || i.Contains(Convert.ToBase64String(B(expect).ToByteArray()), StringComparison.Ordinal)), Deadline, $"{what}: {expect} reached {(client == fixture.Etcd ? "etcd" : "raftkv")}'s watch");
            }
            catch (TimeoutException e)
            {
                throw new TimeoutException($"{e.Message}; it received:\n    {string.Join("\n    ", rec.Items)}", e);
            }
        }

        IReadOnlyList<string> Normal(IReadOnlyList<string> items) => !several ? items
            : [.. items.OrderBy(WatchOf, StringComparer.Ordinal)];

        // With several watches the sentinel reaching one of them does not mean it reached all (each watch's response is
        // its own message): wait for the two records to agree, then compare (a divergence still fails, with both shown).
        try
        {
            await Eventually.TrueAsync(() => Normal(recorders[fixture.Etcd].Items).SequenceEqual(Normal(recorders[fixture.RaftKv].Items)), several ? Deadline : TimeSpan.Zero, what);
        }
        catch (TimeoutException)
        {
        }

        var etcd = Normal(recorders[fixture.Etcd].Items);
        var raftkv = Normal(recorders[fixture.RaftKv].Items);
        Assert.True(etcd.SequenceEqual(raftkv), $"{what} diverged\n  etcd:\n    {string.Join("\n    ", etcd)}\n  raftkv:\n    {string.Join("\n    ", raftkv)}");
        output.WriteLine($"{what}: {etcd.Count} responses");
        return etcd;
    }

    private static async Task Writes(EtcdClient c, string prefix)
    {
        await c.PutAsync(prefix + "a", "1");
        await c.PutAsync(prefix + "b", "2");
        await c.PutAsync(prefix + "a", "3");
        await c.DeleteAsync(prefix + "a");
        var txn = new TxnRequest();
        txn.Success.Add(new RequestOp { RequestPut = new PutRequest { Key = B(prefix + "c"), Value = B("4") } });
        txn.Success.Add(new RequestOp { RequestPut = new PutRequest { Key = B(prefix + "d"), Value = B("5") } });
        txn.Success.Add(new RequestOp { RequestDeleteRange = new DeleteRangeRequest { Key = B(prefix + "b") } });
        await c.TransactionAsync(txn);
        await c.DeleteRangeAsync(prefix);
    }

    [Fact]
    public async Task KeyAndRangeOverloadsDeliverWhatEtcdDelivers()
    {
        await SameEventsAsync(
            "WatchAsync(WatchRequest) on one key",
            (c, r) => c.WatchAsync(new WatchRequest { CreateRequest = new WatchCreateRequest { Key = B("w1/a") } }, r.On),
            c => Writes(c, "w1/"),
            "w1/a");
        await SameEventsAsync(
            "WatchAsync(WatchRequest, methods[]) on a prefix with prev_kv",
            (c, r) => c.WatchAsync(new WatchRequest { CreateRequest = new WatchCreateRequest { Key = B("w2/"), RangeEnd = EtcdClient.GetRangeEnd(B("w2/")), PrevKv = true } }, [r.On]),
            c => Writes(c, "w2/"),
            "w2/z");
        await SameEventsAsync(
            "WatchAsync(string key, events)",
            (c, r) => c.WatchAsync("w3/a", (Action<WatchEvent[]>)r.OnEvents),
            c => Writes(c, "w3/"),
            "w3/a");
        await SameEventsAsync(
            "WatchRangeAsync(prefix, responses)",
            (c, r) => c.WatchRangeAsync("w4/", (Action<WatchResponse>)r.On),
            c => Writes(c, "w4/"),
            "w4/z");
        await SameEventsAsync(
            "WatchAsync(WatchRequest, events) on a prefix",
            (c, r) => c.WatchAsync(new WatchRequest { CreateRequest = new WatchCreateRequest { Key = B("w5/"), RangeEnd = B("w50") } }, (Action<WatchEvent[]>)r.OnEvents),
            c => Writes(c, "w5/"),
            "w5/z");
        await SameEventsAsync(
            "Watch (sync) on a key",
            (c, r) =>
            {
                c.Watch("w6/a", (Action<WatchResponse>)r.On);
                return Task.CompletedTask;
            },
            c => Writes(c, "w6/"),
            "w6/a");
        await SameEventsAsync(
            "WatchRange (sync) on a prefix",
            (c, r) =>
            {
                c.WatchRange("w7/", (Action<WatchResponse>)r.On);
                return Task.CompletedTask;
            },
            c => Writes(c, "w7/"),
            "w7/z");
        await SameEventsAsync(
            "the watch manager's Watch(key, event)",
            (c, r) => c.GetWatchManager().WatchAsync("w8/a", r.OnEvent),
            c => Writes(c, "w8/"),
            "w8/a");
    }

    [Fact]
    public async Task SeveralWatchesInOneCallDeliverWhatEtcdDelivers()
    {
        await SameEventsAsync(
            "WatchAsync(WatchRequest[], methods[])",
            (c, r) => c.WatchAsync(
                [
                    new WatchRequest { CreateRequest = new WatchCreateRequest { Key = B("m1/a") } },
                    new WatchRequest { CreateRequest = new WatchCreateRequest { Key = B("m1/"), RangeEnd = B("m10"), Filters = { WatchCreateRequest.Types.FilterType.Nodelete } } },
                    new WatchRequest { CreateRequest = new WatchCreateRequest { Key = B("m1/"), RangeEnd = B("m10"), Filters = { WatchCreateRequest.Types.FilterType.Noput }, PrevKv = true } },
                ],
                [r.On, r.On, r.On]),
            c => Writes(c, "m1/"),
            "m1/a",
            several: true);
        await SameEventsAsync(
            "WatchAsync(string[] keys, method)",
            (c, r) => c.WatchAsync(["m2/a", "m2/b"], (Action<WatchResponse>)r.On),
            c => Writes(c, "m2/"),
            "m2/b",
            several: true);
        await SameEventsAsync(
            "WatchAsync(string[] keys, events[])",
            (c, r) => c.WatchAsync(["m3/a", "m3/c"], new Action<WatchEvent[]>[] { r.OnEvents, r.OnEvents }),
            c => Writes(c, "m3/"),
            "m3/c",
            several: true);
        await SameEventsAsync(
            "WatchRangeAsync(string[] prefixes, method)",
            (c, r) => c.WatchRangeAsync(["m4/", "m5/"], (Action<WatchResponse>)r.On),
            async c =>
            {
                await Writes(c, "m4/");
                await Writes(c, "m5/");
            },
            "m5/z",
            several: true);
    }

    [Fact]
    public async Task StartRevisionPrevKvAndFiltersDeliverWhatEtcdDelivers()
    {
        await BothAsync(c => Writes(c, "h/"));
        var head = (await fixture.Etcd.GetAsync("h/a")).Header.Revision;
        foreach (var start in new[] { head - 5, head - 1, head, head + 1, head + 3 })
        {
            foreach (var filters in new[] { Array.Empty<WatchCreateRequest.Types.FilterType>(), [WatchCreateRequest.Types.FilterType.Noput], [WatchCreateRequest.Types.FilterType.Nodelete], [WatchCreateRequest.Types.FilterType.Noput, WatchCreateRequest.Types.FilterType.Nodelete] })
            {
                var noPut = filters.Contains(WatchCreateRequest.Types.FilterType.Noput);
                var noDelete = filters.Contains(WatchCreateRequest.Types.FilterType.Nodelete);
                await SameEventsAsync(
                    $"from revision {start} (head {head}) with filters [{string.Join(",", filters)}] and prev_kv",
                    (c, r) => c.WatchAsync(new WatchRequest { CreateRequest = new WatchCreateRequest { Key = B("h/"), RangeEnd = B("h0"), StartRevision = start, PrevKv = true, Filters = { filters }, Fragment = true } }, r.On),
                    async c =>
                    {
                        await c.PutAsync($"h/x{start}", "x");
                        await c.DeleteAsync($"h/x{start}");
                    },
                    $"h/s{start}",
                    until: noPut && noDelete ? "\"created\": true" : noPut ? $"h/x{start}" : null);
            }
        }
    }

    [Fact]
    public async Task ProgressNotifyArrivesOnBothAtTheCurrentRevision()
    {
        var recorders = new[] { (fixture.Etcd, new Recorder(), new ConcurrentQueue<long>()), (fixture.RaftKv, new Recorder(), new ConcurrentQueue<long>()) };
        foreach (var (client, rec, revisions) in recorders)
        {
            await client.WatchAsync(new WatchRequest { CreateRequest = new WatchCreateRequest { Key = B("pn/a"), ProgressNotify = true } }, r =>
            {
                rec.On(r);
                if (!r.Created && r.Events.Count == 0)
                {
                    revisions.Enqueue(r.Header.Revision);
                }
            });
        }

        await BothAsync(c => c.PutAsync("pn/other", "1")); // not the watched key: only a progress notification tells it
        var head = (await fixture.Etcd.GetAsync("pn/other")).Header.Revision;
        Assert.Equal(head, (await fixture.RaftKv.GetAsync("pn/other")).Header.Revision);
        foreach (var (client, rec, revisions) in recorders)
        {
            await Eventually.TrueAsync(() => revisions.Contains(head), Deadline, $"a progress notification at revision {head} from {(client == fixture.Etcd ? "etcd" : "raftkv")}");
        }

        Assert.Equal(recorders[0].Item2.Items, recorders[1].Item2.Items); // the created responses
    }

    [Fact]
    public async Task CancellationByTheClientEndsDelivery()
    {
        foreach (var client in new[] { fixture.Etcd, fixture.RaftKv })
        {
            var byId = new Recorder();
            var byToken = new Recorder();
            var kept = new Recorder();
            using var cts = new CancellationTokenSource();
            var id = await client.WatchAsync(new WatchRequest { CreateRequest = new WatchCreateRequest { Key = B("cx/a") } }, byId.On);
            await client.WatchAsync(new WatchRequest { CreateRequest = new WatchCreateRequest { Key = B("cx/a") } }, byToken.On, cancellationToken: cts.Token);
            var keptIds = await client.WatchAsync([new WatchRequest { CreateRequest = new WatchCreateRequest { Key = B("cx/a") } }, new WatchRequest { CreateRequest = new WatchCreateRequest { Key = B("cx/b") } }], [kept.On, kept.On]);
            await client.PutAsync("cx/a", "1");
            await Eventually.TrueAsync(() => byId.Items.Count == 2 && byToken.Items.Count == 2 && kept.Items.Count == 3, Deadline, "the first event on every watch");
            client.CancelWatch(id);
            await cts.CancelAsync();
            client.CancelWatch([keptIds[1]]);
            await client.PutAsync("cx/a", "2");
            await client.PutAsync("cx/b", "3");
            await Eventually.TrueAsync(() => kept.Items.Count == 4, Deadline, "the second event on the kept watch");
            await client.PutAsync("cx/a", "4");
            await Eventually.TrueAsync(() => kept.Items.Count == 5, Deadline, "the third event on the kept watch");
            Assert.Equal(2, byId.Items.Count);
            Assert.Equal(2, byToken.Items.Count);
            Assert.DoesNotContain(kept.Items, i => i.Contains(Convert.ToBase64String(B("3").ToByteArray()), StringComparison.Ordinal));
            client.CancelWatch(keptIds[0]);
        }
    }

    [Fact]
    public async Task WatchOfACompactedRevisionAnswersAsEtcd()
    {
        await BothAsync(async c =>
        {
            await c.PutAsync("cw/a", "1");
            await c.PutAsync("cw/a", "2");
            await c.PutAsync("cw/a", "3");
        });
        var head = (await fixture.Etcd.GetAsync("cw/a")).Header.Revision;
        await fixture.SameAsync("compact", c => c.CompactAsync(new CompactionRequest { Revision = head - 1, Physical = true }));
        await SameEventsAsync(
            "a watch from a compacted revision",
            (c, r) => c.WatchAsync(new WatchRequest { CreateRequest = new WatchCreateRequest { Key = B("cw/a"), StartRevision = head - 2 } }, r.On),
            _ => Task.CompletedTask,
            "cw/a",
            until: "\"canceled\": true");

        // Bad create requests: etcd answers created + canceled with its reason, which dotnet-etcd throws. A backwards range
        // is never acknowledged by etcd 3.4 (nor by RaftKv): without a deadline dotnet-etcd gives up after its own 30 s on
        // each side, so the call has the same 3 s deadline as the request without create below.
        await fixture.SameAsync("a backwards range", c => c.WatchAsync(new WatchRequest { CreateRequest = new WatchCreateRequest { Key = B("cw/z"), RangeEnd = B("cw/a") } }, Ignore, deadline: DateTime.UtcNow.AddSeconds(3)));
        await fixture.SameAsync("an empty key", c => c.WatchAsync(new WatchRequest { CreateRequest = new WatchCreateRequest { Key = ByteString.Empty } }, Ignore));
        await fixture.SameAsync("a negative start revision", c => c.WatchAsync(new WatchRequest { CreateRequest = new WatchCreateRequest { Key = B("cw/a"), StartRevision = -5 } }, Ignore));
        await fixture.SameAsync("a request without create", c => c.WatchAsync(new WatchRequest(), Ignore, deadline: DateTime.UtcNow.AddSeconds(3)));
    }
}
