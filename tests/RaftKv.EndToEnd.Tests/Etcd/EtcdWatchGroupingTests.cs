using Google.Protobuf;
using Grpc.Net.Client;
using RaftKv.Protocol.Etcd;
using Xunit.Abstractions;

namespace RaftKv.EndToEnd.Tests.Etcd;

/// <summary>
/// Many watchers on one etcd Watch stream are served by one group (EtcdWatchSession.Group.cs): whatever their
/// ranges, filters, start revisions and prev_kv, and however they come and go, each gets exactly its events,
/// in order, once; a stream nobody reads does not hold up the others and later gets every event.
/// </summary>
public sealed class EtcdWatchGroupingTests(ITestOutputHelper output) : IAsyncLifetime
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(90);

    private readonly LocalCluster _cluster = new(1);
    private GrpcChannel? _channel;

    private KV.KVClient Kv => new(_channel!);

    private static ByteString B(string s) => ByteString.CopyFromUtf8(s);

    public async Task InitializeAsync()
    {
        _cluster.StartAll();
        await _cluster.WaitForLeaderAsync();
        await _cluster.WaitReadyAsync();
        _channel = GrpcChannel.ForAddress("http://" + _cluster.Nodes[0].Grpc);
    }

    public Task DisposeAsync()
    {
        _channel?.Dispose();
        _cluster.Dispose();
        return Task.CompletedTask;
    }

    private sealed record Spec(long Id, string Key, string? End, long Start, bool NoPut, bool NoDelete, bool PrevKv, bool Fragment)
    {
        public long EffectiveStart { get; set; }

        public bool Canceled { get; set; }
    }

    [Fact]
    public async Task ManyWatchersOnOneStreamGetExactlyTheirEventsInOrder()
    {
        var seed = int.TryParse(Environment.GetEnvironmentVariable("RAFTKV_WATCH_SEED"), out var s) ? s : Random.Shared.Next();
        output.WriteLine($"seed {seed} (rerun with RAFTKV_WATCH_SEED={seed})");
        var rnd = new Random(seed);
        var prefix = $"wg{seed}/";
        string K(int i) => prefix + "k" + i.ToString("D2", System.Globalization.CultureInfo.InvariantCulture);
        const int Keys = 12;
        var model = new WatchModel();
        var specs = new List<Spec>();
        await using var stream = new WatchStreamRecorder(_cluster.Nodes[0].Grpc);
        stream.StartReading();
        var nextValue = 0;

        async Task PutAsync(string key)
        {
            var value = "v" + Interlocked.Increment(ref nextValue);
            var r = await Kv.PutAsync(new PutRequest { Key = B(key), Value = B(value) });
            lock (model)
            {
                Pending.Add((r.Header.Revision, [(key, value)]));
            }
        }

        async Task CreateWatcherAsync()
        {
            var a = rnd.Next(Keys);
            var shape = rnd.Next(3);
            var (key, end) = shape switch
            {
                0 => (K(a), (string?)null),
                1 => (K(a), K(Math.Min(Keys, a + 1 + rnd.Next(4)))),
                _ => (prefix, prefix[..^1] + "0"),
            };
            var past = model.Revisions;
            var start = rnd.Next(4) switch
            {
                0 when past.Count > 0 => past[rnd.Next(past.Count)],
                1 when past.Count > 0 => past[rnd.Next(past.Count)] + 1, // may fall between this prefix's revisions
                _ => 0,
            };
            var spec = new Spec(specs.Count + 1, key, end, start, rnd.Next(5) == 0, rnd.Next(5) == 0, rnd.Next(2) == 0, rnd.Next(4) == 0);
            specs.Add(spec);
            var create = new WatchCreateRequest { WatchId = spec.Id, Key = B(key), StartRevision = start, PrevKv = spec.PrevKv, Fragment = spec.Fragment };
            if (end is not null)
            {
                create.RangeEnd = B(end);
            }

            if (spec.NoPut)
            {
                create.Filters.Add(WatchCreateRequest.Types.FilterType.Noput);
            }

            if (spec.NoDelete)
            {
                create.Filters.Add(WatchCreateRequest.Types.FilterType.Nodelete);
            }

            await stream.CreateAsync(create);
            await stream.WaitAsync(() => stream.Of(spec.Id).Count > 0, Deadline, () => $"watcher {spec.Id} was not created");
            var created = stream.Of(spec.Id)[0];
            Assert.True(created.Created, $"watcher {spec.Id}: the first response is 'created'");
            spec.EffectiveStart = start != 0 ? start : created.Header.Revision + 1;
        }

        // A writer of its own key all along: the group moves on while watchers from the past read the history,
        // so they join through the group's recent revisions or read again.
        using var stopBackground = new CancellationTokenSource();
        var background = Task.Run(async () =>
        {
            while (!stopBackground.IsCancellationRequested)
            {
                await PutAsync(K(Keys));
            }
        });
        for (var round = 0; round < 8; round++)
        {
            for (var i = 0; i < 5; i++)
            {
                await CreateWatcherAsync();
            }

            for (var op = 0; op < 12; op++)
            {
                switch (rnd.Next(6))
                {
                    case 0 or 1:
                        await PutAsync(K(rnd.Next(Keys)));
                        break;
                    case 2:
                        // A burst of concurrent puts on distinct keys: revisions pile up for the group to batch.
                        var keys = Enumerable.Range(0, Keys).OrderBy(_ => rnd.Next()).Take(2 + rnd.Next(8)).Select(K).ToList();
                        await Task.WhenAll(keys.Select(PutAsync));
                        break;
                    case 3:
                        var from = rnd.Next(Keys);
                        var to = Math.Min(Keys, from + 1 + rnd.Next(3));
                        var d = await Kv.DeleteRangeAsync(new DeleteRangeRequest { Key = B(K(from)), RangeEnd = B(K(to)) }); // never the background key
                        if (d.Deleted > 0)
                        {
                            lock (model)
                            {
                                Pending.Add((d.Header.Revision, [.. Enumerable.Range(from, to - from).Select(k => (K(k), (string?)null))]));
                            }
                        }

                        break;
                    default:
                        await TxnAsync(rnd, model, K, Keys);
                        break;
                }

                Settle(model);
            }

            // Cancel some watchers mid-stream.
            foreach (var spec in specs.Where(x => !x.Canceled).OrderBy(_ => rnd.Next()).Take(rnd.Next(3)))
            {
                spec.Canceled = true;
                await stream.CancelAsync(spec.Id);
            }
        }

        await stopBackground.CancelAsync();
        await background;
        Settle(model);
        foreach (var spec in specs)
        {
            var expected = model.Expected(spec.Key, spec.End, spec.EffectiveStart, spec.NoPut, spec.NoDelete, spec.PrevKv);
            if (spec.Canceled)
            {
                await stream.WaitAsync(() => stream.Of(spec.Id).Any(r => r.Canceled), Deadline, () => $"watcher {spec.Id} was not canceled");
                var responses = stream.Of(spec.Id);
                Assert.True(responses[^1].Canceled, $"watcher {spec.Id}: nothing follows 'canceled'");
                var got = WatchModel.Received(responses, spec.PrevKv);
                Assert.True(got.Count <= expected.Count && got.SequenceEqual(expected.Take(got.Count)),
                    $"seed {seed}, canceled watcher {spec}: got\n{string.Join('\n', got)}\nexpected a prefix of\n{string.Join('\n', expected)}");
                continue;
            }

            await stream.WaitAsync(() => WatchModel.Received(stream.Of(spec.Id), spec.PrevKv).Count >= expected.Count, Deadline,
                () => $"seed {seed}, watcher {spec}: {WatchModel.Received(stream.Of(spec.Id), spec.PrevKv).Count} of {expected.Count} events");
            var received = WatchModel.Received(stream.Of(spec.Id), spec.PrevKv);
            Assert.True(received.SequenceEqual(expected), $"seed {seed}, watcher {spec}: got\n{string.Join('\n', received)}\nexpected\n{string.Join('\n', expected)}");
            Assert.DoesNotContain(stream.Of(spec.Id), r => r.Canceled);
        }

        output.WriteLine($"{specs.Count} watchers ({specs.Count(x => x.Canceled)} canceled), {model.LastRevision} last revision");
    }

    /// <summary>One stream is left unread while puts of 4 KiB values fill its transport: its watchers run out of
    /// credit, leave the group and wait in their catch-up tasks; the watchers of a stream that reads get every
    /// event meanwhile, and once the slow stream is read it gets every event too, in order, once.</summary>
    [Fact]
    public async Task AnUnreadStreamDoesNotHoldUpTheOthersAndLaterGetsEveryEvent()
    {
        const int Puts = 400;
        const int WatchersPerStream = 5;
        var prefix = "wslow/";
        var end = "wslow0";
        var node = _cluster.Nodes[0].Grpc;
        await using var slow = new WatchStreamRecorder(node);
        await using var fast = new WatchStreamRecorder(node);
        fast.StartReading();
        for (var id = 1; id <= WatchersPerStream; id++)
        {
            // Both streams from the same revision: the slow stream's creates are answered only once it is read.
            await fast.CreateAsync(new WatchCreateRequest { WatchId = id, Key = B(prefix), RangeEnd = B(end), PrevKv = id % 2 == 0 });
        }

        await fast.WaitAsync(() => Enumerable.Range(1, WatchersPerStream).All(i => fast.Of(i).Count > 0), Deadline, () => "fast watchers not created");
        var created = fast.Of(1)[0].Header.Revision;
        for (var id = 1; id <= WatchersPerStream; id++)
        {
            await slow.CreateAsync(new WatchCreateRequest { WatchId = id, Key = B(prefix), RangeEnd = B(end), StartRevision = created + 1, PrevKv = id % 2 == 0 });
        }

        var value = new string('x', 4096);
        var revisions = new List<long>();
        for (var i = 0; i < Puts; i++)
        {
            revisions.Add((await Kv.PutAsync(new PutRequest { Key = B(prefix + (i % 50)), Value = B(value + i) })).Header.Revision);
        }

        var expected = revisions.Select((r, i) => (Key: prefix + (i % 50), Value: value + i, Revision: r)).ToList();
        void Check(WatchStreamRecorder stream, string name)
        {
            for (var id = 1; id <= WatchersPerStream; id++)
            {
                var events = stream.Of(id).SelectMany(r => r.Events).ToList();
                Assert.Equal(expected.Select(e => $"{e.Key} {e.Revision}"), events.Select(e => $"{e.Kv.Key.ToStringUtf8()} {e.Kv.ModRevision}"));
                Assert.Equal(expected.Select(e => e.Value), events.Select(e => e.Kv.Value.ToStringUtf8()));
                Assert.All(events, e => Assert.Equal(id % 2 == 0 && e.Kv.Version > 1, e.PrevKv is not null));
                Assert.DoesNotContain(stream.Of(id), r => r.Canceled);
                output.WriteLine($"{name} watcher {id}: {events.Count} events in {stream.Of(id).Count} responses");
            }
        }

        int Count(WatchStreamRecorder stream, int id) => stream.Of(id).Sum(r => r.Events.Count);
        await fast.WaitAsync(() => Enumerable.Range(1, WatchersPerStream).All(i => Count(fast, i) >= Puts), Deadline,
            () => "the read stream was held up: " + string.Join(", ", Enumerable.Range(1, WatchersPerStream).Select(i => Count(fast, i))) + $" of {Puts}");
        Check(fast, "read stream");

        slow.StartReading();
        await slow.WaitAsync(() => Enumerable.Range(1, WatchersPerStream).All(i => Count(slow, i) >= Puts), Deadline,
            () => "the unread stream did not catch up: " + string.Join(", ", Enumerable.Range(1, WatchersPerStream).Select(i => Count(slow, i))) + $" of {Puts}");
        Check(slow, "unread stream");
    }

    private List<(long Revision, List<(string Key, string? Value)> Changes)> Pending { get; } = [];

    /// <summary>Applies the writes made so far to the model in revision order (concurrent puts finish in any order).</summary>
    private void Settle(WatchModel model)
    {
        lock (model)
        {
            foreach (var (revision, changes) in Pending.OrderBy(p => p.Revision))
            {
                model.Apply(revision, changes);
            }

            Pending.Clear();
        }
    }

    /// <summary>A txn comparing one key's version with the model: success puts one key and deletes another,
    /// failure puts a third (a stale compare is as good a test as a fresh one).</summary>
    private async Task TxnAsync(Random rnd, WatchModel model, Func<int, string> k, int keys)
    {
        var picked = Enumerable.Range(0, keys).OrderBy(_ => rnd.Next()).Take(3).Select(k).ToList();
        var compared = picked[0];
        var version = rnd.Next(3) == 0 ? model.Version(compared) + 1 : model.Version(compared);
        var txn = new TxnRequest();
        txn.Compare.Add(new Compare { Key = B(compared), Target = Compare.Types.CompareTarget.Version, Result = Compare.Types.CompareResult.Equal, Version = version });
        var put = picked[1];
        var del = picked[2];
        var value = "t" + rnd.Next(1_000_000);
        var ops = new[]
        {
            (Key: put, Op: new RequestOp { RequestPut = new PutRequest { Key = B(put), Value = B(value) } }),
            (Key: del, Op: new RequestOp { RequestDeleteRange = new DeleteRangeRequest { Key = B(del) } }),
        };
        txn.Success.AddRange(ops.OrderBy(o => o.Key, StringComparer.Ordinal).Select(o => o.Op)); // events in key order, live and from the history
        txn.Failure.Add(new RequestOp { RequestPut = new PutRequest { Key = B(del), Value = B(value + "f") } });
        var r = await Kv.TxnAsync(txn);
        lock (model)
        {
            Pending.Add((r.Header.Revision, r.Succeeded ? [(put, value), (del, null)] : [(del, value + "f")]));
        }
    }
}
