using System.Text;
using Microsoft.Extensions.Logging.Abstractions;
using RaftKv.Replication.Api;
using RaftKv.Replication.Commands;
using RaftKv.Replication.State;
using RaftKv.Storage;
using RaftKv.Storage.IO;

namespace RaftKv.Replication.Tests;

/// <summary>
/// etcd 3.4's answers to transactions RaftKv used to refuse (docs/api.md, "Differences from etcd"), at the apply:
/// a Range with a revision reads the history (command format version 6; every range of the branch path checked
/// against the revisions before any op, the puts' checks first), a DeleteRange whose range_end is at or before its key
/// deletes nothing, a compare whose range_end is below its key compares over no key. Through the node:
/// <see cref="TxnEtcdCompatNodeTests"/>.
/// </summary>
public sealed class TxnEtcdCompatTests : IAsyncLifetime
{
    private readonly TempDir _dir = new();
    private CountingStore _store = null!;
    private KvState _state = null!;
    private long _index;

    private static byte[] B(string s) => Encoding.UTF8.GetBytes(s);

    private static string S(ReadOnlyMemory<byte> b) => Encoding.UTF8.GetString(b.Span);

    public async Task InitializeAsync()
    {
        KvState? current = null;
        _store = new CountingStore(await LsmStore.OpenAsync(new LsmOptions
        {
            Directory = Path.Combine(_dir.Path, "lsm"),
            BackgroundWork = false,
            CompactionFilterFactory = () => current is { CompactRevision: > 0 } st ? new HistoryCompactionFilter(st.CompactRevision) : null,
        }));
        _state = await KvState.RestoreAsync(_store, PhysicalFileSystem.Instance, Path.Combine(_dir.Path, "snapshots"), NullLogger.Instance, TimeProvider.System, CancellationToken.None);
        current = _state;
    }

    public async Task DisposeAsync()
    {
        _state.Dispose();
        await _store.DisposeAsync();
        _dir.Dispose();
    }

    /// <summary>Applies <paramref name="txn"/> as the proposer's node does (with a holder) and completes its history reads.</summary>
    private async Task<(TxnResult Result, ApplyResult Holder)> ApplyAsync(KvTxn txn, byte format = CommandCodec.RangeRevisionVersion)
    {
        var holder = new ApplyResult();
        await _state.ApplyEntryAsync(++_index, 1, false, CommandCodec.Encode(new KvCommand(CommandKind.Txn, _index, null, txn) { FormatVersion = format }), holder, CancellationToken.None);
        return (await holder.Task, holder);
    }

    private async Task<RangeResult> HistoryReadOf(ApplyResult holder, OpResult op)
    {
        var read = Assert.Single(holder.HistoryReads!, r => ReferenceEquals(r.Placeholder, op));
        return await read.Read;
    }

    private Task PutAsync(string key, string value) => ApplyAsync(KvTxn.Single(KvOp.Put(B(key), B(value))));

    private static KvTxn Txn(params KvOp[] ops) => new([], ops, []);

    private static KvOp RangeAt(string key, string? end, long revision) => KvOp.RangeRead(new RangeRequest(B(key), end is null ? null : B(end), Revision: revision));

    [Fact]
    public async Task RangeAtARevisionReadsTheHistory()
    {
        await PutAsync("a", "1"); // revision 2
        await PutAsync("a", "2"); // 3
        await PutAsync("b", "1"); // 4

        // After a put of the txn: the ranges read history at 2 and 3; their results show the txn's revision (etcd's header).
        var (r, holder) = await ApplyAsync(Txn(KvOp.Put(B("c"), B("x")), RangeAt("a", "\0", 2), RangeAt("a", null, 3), RangeAt("a", "z", 4)));
        Assert.Equal(5, r.Revision);
        var at2 = await HistoryReadOf(holder, r.Results[1]);
        Assert.Equal(["a=1@2/2/1"], at2.Kvs.Select(Text));
        Assert.Equal((1L, 5L), (at2.Count, at2.Revision));
        var at3 = await HistoryReadOf(holder, r.Results[2]);
        Assert.Equal(["a=2@2/3/2"], at3.Kvs.Select(Text));
        var at4 = await HistoryReadOf(holder, r.Results[3]);
        Assert.Equal(["a=2@2/3/2", "b=1@4/4/1"], at4.Kvs.Select(Text)); // at the revision before the txn: not its own put

        // The revision before the txn is the newest one a range may name; a read-only txn answers the current revision.
        var (ro, roHolder) = await ApplyAsync(Txn(RangeAt("a", "z", 5), KvOp.RangeRead(new RangeRequest(B("a"), B("z"), Revision: 2, CountOnly: true))));
        Assert.Equal(5, ro.Revision);
        Assert.Equal(["a=2@2/3/2", "b=1@4/4/1", "c=x@5/5/1"], (await HistoryReadOf(roHolder, ro.Results[0])).Kvs.Select(Text));
        var counted = await HistoryReadOf(roHolder, ro.Results[1]);
        Assert.Equal((1L, 5L, 0), (counted.Count, counted.Revision, counted.Kvs.Count));
    }

    [Fact]
    public async Task RangeRevisionsAreCheckedBeforeAnyOpAndFailTheWholeTxn()
    {
        await PutAsync("a", "1"); // 2
        await PutAsync("a", "2"); // 3
        await PutAsync("a", "3"); // 4

        var future = await Assert.ThrowsAsync<FutureRevisionException>(() => ApplyAsync(Txn(KvOp.Put(B("w"), B("1")), RangeAt("a", null, 5))));
        Assert.Contains("future", future.Message, StringComparison.Ordinal);
        Assert.Equal(4, _state.Revision); // nothing applied
        Assert.Null(_state.ReadMeta(B("w"), _state.LogicalClock));

        // Nested: only the branch path taken is checked (etcd's checkRequests with the txn path).
        var taken = new KvTxn([], [RangeAt("a", null, 9)], []);
        var notTaken = new KvTxn([new KvCompare(B("a"), CompareTarget.Version, CompareOp.Equal, 99)], [RangeAt("a", null, 9)], [KvOp.Put(B("n"), B("1"))]);
        await Assert.ThrowsAsync<FutureRevisionException>(() => ApplyAsync(Txn(KvOp.Put(B("w"), B("1")), KvOp.Txn(taken))));
        Assert.Equal(4, _state.Revision);
        var (ok, _) = await ApplyAsync(Txn(KvOp.Put(B("w"), B("1")), KvOp.Txn(notTaken)));
        Assert.Equal(5, ok.Revision);

        await _state.ApplyEntryAsync(++_index, 1, false, CommandCodec.Encode(new KvCommand(CommandKind.Compact, _index, null, null, Revision: 3)), null, CancellationToken.None);
        var compacted = await Assert.ThrowsAsync<RevisionCompactedException>(() => ApplyAsync(Txn(KvOp.Put(B("x"), B("1")), RangeAt("a", null, 2))));
        Assert.Contains("compacted", compacted.Message, StringComparison.Ordinal);
        Assert.Equal(5, _state.Revision);
        var (atCompact, holder) = await ApplyAsync(Txn(RangeAt("a", null, 3)));
        Assert.Equal(["a=2@2/3/2"], (await HistoryReadOf(holder, atCompact.Results[0])).Kvs.Select(Text));

        // etcd checks the puts first: an ungranted lease wins over a compacted range, whatever their order.
        await Assert.ThrowsAsync<LeaseNotFoundException>(() => ApplyAsync(Txn(RangeAt("a", null, 2), new KvOp(KvOpKind.Put, B("l"), B("1"), Lease: 999))));
        await Assert.ThrowsAsync<KeyNotFoundForIgnoreException>(() => ApplyAsync(Txn(RangeAt("a", null, 99), new KvOp(KvOpKind.Put, B("missing"), IgnoreValue: true))));
        Assert.Equal(5, _state.Revision);
    }

    [Fact]
    public async Task AReplicaThatDidNotProposeTheEntryReadsNothing()
    {
        await PutAsync("a", "1");
        var payload = CommandCodec.Encode(new KvCommand(CommandKind.Txn, 9, null, Txn(KvOp.Put(B("b"), B("1")), RangeAt("a", null, 2))) { FormatVersion = CommandCodec.RangeRevisionVersion });
        var scans = _store.EntriesRead;
        await _state.ApplyEntryAsync(++_index, 1, false, payload, null, CancellationToken.None);
        Assert.Equal(3, _state.Revision);
        Assert.Equal(scans, _store.EntriesRead); // no history read on the apply path of a follower
    }

    [Fact]
    public async Task AHistoryReadPinsItsViewAgainstACompactionAppliedMeanwhile()
    {
        await PutAsync("a", "old"); // 2
        await PutAsync("b", "old"); // 3
        await _store.FlushAsync();

        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        _store.ScanGate = gate.Task;
        var (r, holder) = await ApplyAsync(Txn(KvOp.Put(B("a"), B("new")), KvOp.Delete(B("b")), RangeAt("a", "z", 3)));
        _store.ScanGate = null;

        // While the read waits after its first entry: a compaction past revision 3 is applied and the history below it removed.
        await _state.ApplyEntryAsync(++_index, 1, false, CommandCodec.Encode(new KvCommand(CommandKind.Compact, _index, null, null, Revision: 4)), null, CancellationToken.None);
        await _store.FlushAsync();
        await _store.CompactAsync(_state.LogicalClock);
        await Assert.ThrowsAsync<RevisionCompactedException>(() => _state.ReadRangeAsync(new RangeRequest(B("a"), B("z"), Revision: 3), CancellationToken.None));
        var now = new List<string>();
        await foreach (var kv in _state.StreamHistoryAsync(B("a"), B("z"), 3, CancellationToken.None))
        {
            now.Add(Text(kv));
        }

        Assert.DoesNotContain("b=old@3/3/1", now); // physically gone for a new read

        gate.SetResult();
        var read = await HistoryReadOf(holder, r.Results[2]);
        Assert.Equal(["a=old@2/2/1", "b=old@3/3/1"], read.Kvs.Select(Text));
        Assert.Equal(4, read.Revision);
    }

    [Fact]
    public async Task ABackwardsDeleteDeletesNothingAndABackwardsCompareSeesNoKey()
    {
        await PutAsync("a", "1"); // 2
        await PutAsync("b", "1"); // 3

        // Deletes nothing (no revision) and collides with no put of the txn (etcd's duplicate-key check).
        var onlyDelete = Txn(new KvOp(KvOpKind.DeleteRange, B("b"), RangeEnd: B("a"), PrevKv: true), new KvOp(KvOpKind.DeleteRange, B("b"), RangeEnd: B("b")));
        TxnDuplicates.Check(onlyDelete);
        var (r, _) = await ApplyAsync(onlyDelete, CommandCodec.ValueOnceVersion);
        Assert.Equal((3L, 0L, 0L), (r.Revision, r.Results[0].Deleted, r.Results[1].Deleted));
        Assert.Empty(r.Results[0].PrevKvs!);
        var withPut = Txn(new KvOp(KvOpKind.DeleteRange, B("b"), RangeEnd: B("a")), KvOp.Put(B("b"), B("2")));
        TxnDuplicates.Check(withPut);
        Assert.Throws<DuplicateKeyInTxnException>(() => TxnDuplicates.Check(Txn(new KvOp(KvOpKind.DeleteRange, B("a"), RangeEnd: B("c")), KvOp.Put(B("b"), B("2")))));
        var (put, _) = await ApplyAsync(withPut, CommandCodec.ValueOnceVersion);
        Assert.Equal((4L, 0L), (put.Revision, put.Results[0].Deleted));

        // A compare over no key: version/create/mod/lease are 0, a value compare fails.
        foreach (var (target, op, holds) in new[] { (CompareTarget.Version, CompareOp.Equal, true), (CompareTarget.Mod, CompareOp.Greater, false), (CompareTarget.Value, CompareOp.NotEqual, false), (CompareTarget.Lease, CompareOp.Equal, true) })
        {
            var c = new KvCompare(B("b"), target, op, Value: target == CompareTarget.Value ? B("x") : null, RangeEnd: B("a"));
            var (cr, _) = await ApplyAsync(new KvTxn([c], [], []), CommandCodec.ValueOnceVersion);
            Assert.True(holds == cr.Succeeded, $"{target} {op} over no key");
        }
    }

    private static string Text(KeyValue kv) => $"{S(kv.Key)}={S(kv.Value)}@{kv.CreateRevision}/{kv.ModRevision}/{kv.Version}";
}
