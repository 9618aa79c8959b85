using RaftKv.Replication.Log;
using RaftKv.TestSupport.IO;
using Xunit.Abstractions;
using static RaftKv.Replication.Tests.Log.LogFixture;

namespace RaftKv.Replication.Tests.Log;

public sealed class RaftLogStoreConcurrencyTests(ITestOutputHelper output)
{
    private const int Entries = 20_000;

    /// <summary>
    /// One writer appends 20k entries (now and then overwriting an uncommitted suffix, as a follower
    /// does) while a flusher flushes in a loop and a reader reads payloads (evicted ones from the
    /// segments). Afterwards a final flush, a power cut and a reopen: the writer's log, all of it, in order.
    /// </summary>
    [Fact]
    public void AppendsRacingFlushesAreAllDurableInOrder()
    {
        var fs = new CrashableMemoryFileSystem();
        fs.BeforeOperation = (op, _) =>
        {
            if (op == "sync")
            {
                Thread.Sleep(1); // an fsync takes time: appends and truncations land while a flush is under way
            }
        };
        var options = Options(fs, segmentBytes: 64 << 10, payloadCacheBytes: 16 << 10);
        var store = RaftLogStore.Open(options, 0, 0);
        var terms = new long[Entries + 1]; // the writer's log: term of each index
        long commit = 0;
        var done = 0;
        var failures = new System.Collections.Concurrent.ConcurrentQueue<string>();
        long reads = 0, truncations = 0, flushLoops = 0;

        var writer = new Thread(() => Guard("writer", () =>
        {
            var rng = new Random(1);
            long term = 1, last = 0;
            while (last < Entries)
            {
                if (last > 100 && rng.Next(10) == 0)
                {
                    // A new leader overwrites up to 20 uncommitted entries.
                    var from = Math.Max(Interlocked.Read(ref commit) + 1, last - rng.Next(20));
                    if (from <= last)
                    {
                        store.TruncateFrom(from);
                        last = from - 1;
                        term++;
                        truncations++;

                        // A flush that was under way when the suffix went MUST NOT raise DurableIndex over it:
                        // wait for the next flush to complete (the one under way, or the one writing the truncation).
                        var flushes = store.Flushes;
                        var waited = System.Diagnostics.Stopwatch.StartNew();
                        while (store.Flushes == flushes && waited.ElapsedMilliseconds < 100 && Volatile.Read(ref done) == 0)
                        {
                            Thread.Yield();
                        }

                        if (store.DurableIndex > last)
                        {
                            failures.Enqueue($"DurableIndex {store.DurableIndex} > {last}, the log's end after truncating at {from}");
                        }
                    }
                }

                for (var n = rng.Next(1, 50); n > 0 && last < Entries; n--)
                {
                    last++;
                    terms[last] = term;
                    store.Append(Entry(last, term));
                }

                var (l, d) = (store.LastIndex, store.DurableIndex); // Last is stable here (one writer)
                if (d > l)
                {
                    failures.Enqueue($"DurableIndex {d} > LastIndex {l}");
                }

                Interlocked.Exchange(ref commit, Math.Max(0, d - 30)); // entries well behind the disk are committed
                Thread.SpinWait(rng.Next(5_000)); // let flushes land between batches
            }
        }));

        var flusher = new Thread(() => Guard("flusher", () =>
        {
            while (Volatile.Read(ref done) == 0)
            {
                var before = store.Flushes;
                store.Flush(Interlocked.Read(ref commit));
                flushLoops++;
                if (store.Flushes == before)
                {
                    Thread.Yield(); // nothing was pending
                }
            }
        }));

        var reader = new Thread(() => Guard("reader", () =>
        {
            var rng = new Random(2);
            while (Volatile.Read(ref done) == 0)
            {
                var last = store.LastIndex;
                if (last == 0 || store.Get(1 + rng.NextInt64(last)) is not { } r)
                {
                    continue;
                }

                var payload = store.ReadPayload(r);
                if (!payload.AsSpan().SequenceEqual(Payload(r.Index, r.Term, SizeOf(r.Index))))
                {
                    failures.Enqueue($"entry {r.Index} (term {r.Term}): wrong payload read (cached: {r.Payload is not null})");
                }

                reads++;
                Thread.Yield();
            }
        }));

        flusher.Start();
        reader.Start();
        writer.Start();
        Assert.True(writer.Join(TimeSpan.FromSeconds(60)), "writer did not finish");
        Volatile.Write(ref done, 1);
        Assert.True(flusher.Join(TimeSpan.FromSeconds(30)), "flusher did not finish");
        Assert.True(reader.Join(TimeSpan.FromSeconds(30)), "reader did not finish");
        Assert.Empty(failures);

        store.Flush(Interlocked.Read(ref commit));
        Assert.Equal(Entries, store.DurableIndex);
        var flushes = store.Flushes;
        output.WriteLine($"{flushes} flushes ({flushLoops} flush calls), {truncations} truncations, {reads} concurrent reads, {Segments(fs).Count} segments");
        Assert.True(flushes > 1, "no group flushes happened during the appends");

        fs.BeforeOperation = null;
        fs.Crash();
        using var reopened = RaftLogStore.Open(options, 0, 0);
        Assert.Equal(Entries, reopened.LastIndex);
        var records = reopened.GetRange(1, Entries);
        Assert.Equal(Entries, records.Count);
        for (var i = 1; i <= Entries; i++)
        {
            var r = records[i - 1];
            Assert.Equal(i, r.Index);
            Assert.Equal(terms[i], r.Term);
            Assert.True(Payload(i, terms[i], SizeOf(i)).AsSpan().SequenceEqual(reopened.ReadPayload(r)), $"entry {i}: payload differs");
        }

        void Guard(string name, Action body)
        {
            try
            {
                body();
            }
            catch (Exception e)
            {
                failures.Enqueue($"{name}: {e}");
                Volatile.Write(ref done, 1);
            }
        }
    }
}
