using System.Diagnostics;
using System.Text;
using Microsoft.Extensions.Logging.Abstractions;
using RaftKv.Replication.Api;
using RaftKv.Replication.Commands;
using RaftKv.Replication.Leases;
using RaftKv.Replication.State;
using RaftKv.Storage;
using RaftKv.Storage.IO;
using Xunit.Abstractions;

namespace RaftKv.Replication.Tests;

/// <summary>
/// Events of a revision replayed from the store (watch catch-up) come in the transaction's op order, as
/// live delivery and etcd give them (etcd orders events by sub-revision): the revision index of
/// <see cref="MvccLayout"/> (layout 2). Revisions written by layout 1 (no index) still read, in key order.
/// Catch-up reads only the revisions asked for.
/// </summary>
public sealed class WatchEventOrderTests(ITestOutputHelper output) : IAsyncLifetime
{
    private readonly TempDir _dir = new();
    private CountingStore _store = null!;
    private KvState _state = null!;
    private long _index;

    private static byte[] B(string s) => Encoding.UTF8.GetBytes(s);

    private static string S(ReadOnlyMemory<byte> b) => Encoding.UTF8.GetString(b.Span);

    public async Task InitializeAsync()
    {
        _store = new CountingStore(await LsmStore.OpenAsync(new LsmOptions { Directory = Path.Combine(_dir.Path, "lsm"), BackgroundWork = false }));
        await RestoreAsync();
    }

    public async Task DisposeAsync()
    {
        _state.Dispose();
        await _store.DisposeAsync();
        _dir.Dispose();
    }

    private async Task RestoreAsync()
        => _state = await KvState.RestoreAsync(_store, PhysicalFileSystem.Instance, Path.Combine(_dir.Path, "snapshots"), NullLogger.Instance, TimeProvider.System, CancellationToken.None);

    private async Task ApplyAsync(KvCommand command)
        => await _state.ApplyEntryAsync(++_index, 1, false, CommandCodec.Encode(command with { TimestampUnixMs = 1000 + _index }), null, CancellationToken.None);

    private Task ApplyAsync(params KvOp[] ops) => ApplyAsync(new KvCommand(CommandKind.Txn, 0, null, new KvTxn([], ops, [])));

    private static KvOp Put(string k, long lease = 0) => new(KvOpKind.Put, B(k), B("v-" + k), Lease: lease);

    private static IEnumerable<string> Flat(IEnumerable<(long Revision, IReadOnlyList<MvccEvent> Events)> changes)
        => changes.SelectMany(c => c.Events.Select(e => $"{c.Revision}:{(e.Type == MvccEventType.Put ? "put" : "del")}:{S(e.Kv.Key)}"));

    private async Task<List<string>> ReplayAsync(long from, long to, bool prevKv = false)
        => Flat((await _state.ReadChangesAsync(B("a"), B("zz"), false, from, to, prevKv, CancellationToken.None)).Select(c => (c.Revision, (IReadOnlyList<MvccEvent>)c.Events))).ToList();

    /// <summary>Removes every revision index record and the index start: the store as layout 1 left it.</summary>
    private async Task StripIndexAsync()
    {
        var ops = _store.ScanMetadata(MvccLayout.IndexPrefix, KeyRanges.PrefixEnd(MvccLayout.IndexPrefix), 0, 0).Select(e => WriteOp.Delete(e.Key)).ToList();
        ops.Add(WriteOp.Delete(MvccLayout.IndexFromKey));
        _store.Apply(++_index, ops);
        _state.Dispose();
        await RestoreAsync();
    }

    [Fact]
    public async Task ReplayedEventsComeInOpOrderAsLiveOnesDo()
    {
        await ApplyAsync(new KvCommand(CommandKind.LeaseGrant, 0, null, null, Lease: new LeaseCommand(5, 600)));
        var live = _state.Watch.Subscribe();
        await ApplyAsync(Put("z"), Put("a", lease: 5), KvOp.Txn(new KvTxn([], [Put("m"), Put("c")], [])), Put("b"));   // rev 2: z a m c b
        await ApplyAsync(Put("y"), KvOp.DeleteRange(B("a"), B("d")), Put("k"));                                         // rev 3: y, then a b c (key order), k
        await ApplyAsync(Put("q", lease: 5), Put("d", lease: 5), Put("p", lease: 5));                                   // rev 4: q d p
        await ApplyAsync(new KvCommand(CommandKind.LeaseRevoke, 0, null, null, Lease: new LeaseCommand(5)));            // rev 5: d p q (key order, as etcd's revoke)
        var liveChanges = new List<(long, IReadOnlyList<MvccEvent>)>();
        while (live.TryRead(out var r))
        {
            liveChanges.Add(r);
        }

        var expected = new[]
        {
            "2:put:z", "2:put:a", "2:put:m", "2:put:c", "2:put:b", "3:put:y", "3:del:a", "3:del:b", "3:del:c", "3:put:k",
            "4:put:q", "4:put:d", "4:put:p", "5:del:d", "5:del:p", "5:del:q",
        };
        Assert.Equal(expected, Flat(liveChanges));
        Assert.Equal(expected, await ReplayAsync(2, 5));
        Assert.Equal(expected[5..13], await ReplayAsync(3, 4)); // only the revisions asked for

        // prev_kv of a replayed delete is the key's previous version; the single-key path agrees.
        var withPrev = await _state.ReadChangesAsync(B("a"), B("zz"), false, 3, 3, true, CancellationToken.None);
        Assert.Equal(["v-y", "v-a", "v-b", "v-c", "v-k"], withPrev.Single().Events.Select(e => e.PrevKv is { } p ? S(p.Value) : "v-" + S(e.Kv.Key)));
        Assert.Equal(2, withPrev.Single().Events[1].PrevKv!.Value.ModRevision);
        var single = await _state.ReadChangesAsync(B("a"), [], true, 2, 5, true, CancellationToken.None);
        Assert.Equal([(2L, "put", (string?)null), (3L, "del", "v-a")], single.Select(c => (c.Revision, c.Events.Single().Type == MvccEventType.Put ? "put" : "del", c.Events.Single().PrevKv is { } p ? S(p.Value) : null)));

        // The index survives a flush and a restart.
        await _store.FlushAsync();
        _state.Dispose();
        await RestoreAsync();
        Assert.Equal(expected, await ReplayAsync(2, 5));

        // A storage compaction after Compact(4) drops index records below 4 and leaves 4 and 5 readable.
        await ApplyAsync(new KvCommand(CommandKind.Compact, 0, null, null, Revision: 4));
        var indexed = _store.ScanMetadata(MvccLayout.IndexPrefix, KeyRanges.PrefixEnd(MvccLayout.IndexPrefix), 0, 0).Count();
        var filter = new HistoryCompactionFilter(4);
        foreach (var e in _store.ScanMetadata(MvccLayout.IndexPrefix, KeyRanges.PrefixEnd(MvccLayout.IndexPrefix), 0, 0).ToList())
        {
            Assert.Equal(MvccLayout.IndexRevision(e.Key.Span) < 4, filter.Drop(e.Key.Span, false));
        }

        Assert.Equal(16, indexed);
        Assert.Equal(expected[10..], await ReplayAsync(4, 5));
    }

    [Fact]
    public async Task Layout1RevisionsReadInKeyOrderThenTheIndexTakesOver()
    {
        await ApplyAsync(Put("z"), Put("a"), Put("m"));   // rev 2
        await StripIndexAsync();                          // as written by a layout-1 node
        Assert.Equal(["2:put:a", "2:put:m", "2:put:z"], await ReplayAsync(2, 2));
        await ApplyAsync(Put("y"), Put("b"));             // rev 3: the first indexed revision
        Assert.Equal(["2:put:a", "2:put:m", "2:put:z", "3:put:y", "3:put:b"], await ReplayAsync(2, 3));
        Assert.Equal(3, BitConverter.ToInt64(_store.GetMetadata(MvccLayout.IndexFromKey, 0)!.Value.LocalValue!.Value.Span));
        _state.Dispose();
        await RestoreAsync();
        Assert.Equal(["3:put:y", "3:put:b"], await ReplayAsync(3, 3));
    }

    [Fact]
    public async Task CatchUpReadsOnlyTheRevisionsAskedFor()
    {
        const int keys = 2000, versions = 3, batch = 100;
        for (var v = 0; v < versions; v++)
        {
            for (var k = 0; k < keys; k += batch)
            {
                await ApplyAsync([.. Enumerable.Range(k, batch).Select(i => Put($"big/{i:D5}"))]);
            }
        }

        for (var i = 0; i < 10; i++)
        {
            await ApplyAsync(Put($"big/{i * 7:D5}"), Put($"other/{i}"));
        }

        await _store.FlushAsync();
        var to = _state.Revision;
        async Task<(long Entries, double Ms, int Events)> CatchUpAsync()
        {
            var before = Interlocked.Read(ref _store.EntriesRead);
            var clock = Stopwatch.StartNew();
            var changes = await _state.ReadChangesAsync(B("big/"), KeyRanges.PrefixEnd(B("big/")), false, to - 9, to, true, CancellationToken.None);
            return (Interlocked.Read(ref _store.EntriesRead) - before, clock.Elapsed.TotalMilliseconds, changes.Sum(c => c.Events.Count));
        }

        var indexed = await CatchUpAsync();
        await StripIndexAsync();
        var scanned = await CatchUpAsync();
        output.WriteLine($"catch-up of 10 revisions on a prefix of {keys} keys x {versions + 1} versions: revision index {indexed.Entries} entries read, {indexed.Ms:F1} ms; history scan (layout 1) {scanned.Entries} entries read, {scanned.Ms:F1} ms");
        Assert.Equal(10, indexed.Events);
        Assert.Equal(10, scanned.Events);
        Assert.True(indexed.Entries <= 20 * 3, $"indexed catch-up read {indexed.Entries} entries"); // per revision: 2 index records, the history record, prev_kv
        Assert.True(scanned.Entries >= keys * versions);
    }
}
