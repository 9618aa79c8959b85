using System.Text;
using Microsoft.Extensions.Logging.Abstractions;
using RaftKv.Replication.Api;
using RaftKv.Replication.Commands;
using RaftKv.Replication.State;
using RaftKv.Storage;
using RaftKv.Storage.IO;

namespace RaftKv.Replication.Tests;

/// <summary>
/// MVCC layout version 3 (<see cref="MvccLayout.LargeValueMinBytes"/>): a large value put by a command of
/// <see cref="CommandCodec.ValueOnceVersion"/> is stored once, in its history record, and every read (current, at a
/// revision, prevKV of a put and of a delete, ranges) and the corruption check's state hash see it as before. A real
/// LSM store on disk, the applier alone. (Mixed layouts against a model: <see cref="MvccModelTests"/>.)
/// </summary>
public sealed class ValueOnceTests : IAsyncLifetime
{
    private static readonly byte[] Big1 = B(new string('a', MvccLayout.LargeValueMinBytes + 100));
    private static readonly byte[] Big2 = B(new string('b', MvccLayout.LargeValueMinBytes * 3));

    private readonly TempDir _dir = new();
    private readonly List<(LsmStore Store, KvState State)> _replicas = [];
    private long _index;

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        foreach (var (store, state) in _replicas)
        {
            state.Dispose();
            await store.DisposeAsync();
        }

        _dir.Dispose();
    }

    [Fact]
    public async Task ALargeValueIsStoredOnceAndEveryReadSeesIt()
    {
        var (store, state) = await OpenAsync("r");
        var first = await ApplyAsync(state, CommandCodec.ValueOnceVersion, KvOp.Put(B("k"), Big1));

        // Stored once: the current-value record holds no bytes, the metadata says where the value is.
        Assert.True(state.ReadMeta(B("k"), state.LogicalClock) is { ValueInHistory: true });
        Assert.Equal(0, (await store.GetAsync(B("k"), state.LogicalClock))!.Value.Value.Length);
        Assert.Equal(Big1, await CurrentAsync(state, "k"));

        // A small value is kept as before; prevKV of the next put (large again) shows it, and prevKV after that
        // shows the large value from its history record.
        await ApplyAsync(state, CommandCodec.ValueOnceVersion, KvOp.Put(B("k"), B("small")));
        Assert.True(state.ReadMeta(B("k"), state.LogicalClock) is { ValueInHistory: false });
        var third = await ApplyAsync(state, CommandCodec.ValueOnceVersion, KvOp.Put(B("k"), Big2, prevKv: true));
        Assert.Equal("small", S(third.Results[0].PrevKv!.Value.Value));
        await store.FlushAsync();
        var fourth = await ApplyAsync(state, CommandCodec.ValueOnceVersion, KvOp.Put(B("k2"), Big1), KvOp.Put(B("k"), B("x"), prevKv: true));
        Assert.Equal(Big2, fourth.Results[1].PrevKv!.Value.Value.ToArray());

        // Reads at past revisions, a range with values and a keys-only range.
        Assert.Equal(Big1, (await state.ReadRangeAsync(new RangeRequest(B("k"), Revision: first.Revision), CancellationToken.None)).Kvs[0].Value.ToArray());
        Assert.Equal(Big2, (await state.ReadRangeAsync(new RangeRequest(B("k"), Revision: third.Revision), CancellationToken.None)).Kvs[0].Value.ToArray());
        var range = await state.ReadRangeAsync(new RangeRequest(B("k"), B("l")), CancellationToken.None);
        Assert.Equal(["x", S(Big1)], range.Kvs.Select(kv => S(kv.Value)));
        var keysOnly = await state.ReadRangeAsync(new RangeRequest(B("k"), B("l"), KeysOnly: true), CancellationToken.None);
        Assert.All(keysOnly.Kvs, kv => Assert.True(kv.Value.IsEmpty));

        // A delete's prevKV, after a storage compaction.
        await store.FlushAsync();
        await store.CompactAsync(state.LogicalClock);
        var deleted = await ApplyAsync(state, CommandCodec.ValueOnceVersion, KvOp.Delete(B("k2"), prevKv: true));
        Assert.Equal(Big1, deleted.Results[0].PrevKvs![0].Value.ToArray());
        Assert.Empty((await state.ReadRangeAsync(new RangeRequest(B("k2")), CancellationToken.None)).Kvs);
    }

    [Fact]
    public async Task ACommandBeforeVersion5KeepsTheValueTwiceAsBefore()
    {
        var (store, state) = await OpenAsync("r");
        await ApplyAsync(state, CommandCodec.TxnPathVersion, KvOp.Put(B("k"), Big1));
        Assert.True(state.ReadMeta(B("k"), state.LogicalClock) is { ValueInHistory: false });
        Assert.Equal(Big1, (await store.GetAsync(B("k"), state.LogicalClock))!.Value.Value.ToArray());
        Assert.Equal(Big1, await CurrentAsync(state, "k"));
    }

    [Fact]
    public async Task TheStateHashIsTheSameWhicheverWayTheValuesAreKeptAndCatchesALostValue()
    {
        var twice = await OpenAsync("twice");
        var once = await OpenAsync("once");
        var start = _index;
        foreach (var (replica, format) in new[] { (twice, CommandCodec.TxnPathVersion), (once, CommandCodec.ValueOnceVersion) })
        {
            _index = start; // both replicas apply the same entries at the same indexes
            await ApplyAsync(replica.State, format, KvOp.Put(B("a"), Big1), KvOp.Put(B("b"), B("small")), KvOp.Put(B("c"), Big2));
            await ApplyAsync(replica.State, format, KvOp.Put(B("a"), Big2));
            await replica.Store.FlushAsync();
            await ApplyAsync(replica.State, format, KvOp.Put(B("d"), Big1), KvOp.Put(B("e"), []));
        }

        var check = ++_index;
        var hashTwice = await HashAsync(twice.State, check);
        var hashOnce = await HashAsync(once.State, check);
        Assert.NotNull(hashOnce.Hash);
        Assert.Equal(5, hashOnce.Keys);
        Assert.Equal(hashTwice.Hash, hashOnce.Hash);

        // The history record holding a current value kept once is lost on one replica: its hash says corrupt.
        var lostAt = once.State.ReadMeta(B("c"), once.State.LogicalClock)!.Value.Mod;
        once.Store.Apply(++_index, [WriteOp.Delete(MvccLayout.HistoryKey(B("c"), lostAt))]);
        var after = await HashAsync(once.State, ++_index);
        Assert.Null(after.Hash);
        Assert.Contains("history record", after.Corruption);
    }

    private async Task<(LsmStore Store, KvState State)> OpenAsync(string name)
    {
        var store = await LsmStore.OpenAsync(new LsmOptions { Directory = Path.Combine(_dir.Path, name, "lsm"), BackgroundWork = false });
        var state = await KvState.RestoreAsync(store, PhysicalFileSystem.Instance, Path.Combine(_dir.Path, name, "snapshots"), NullLogger.Instance, TimeProvider.System, CancellationToken.None);
        _replicas.Add((store, state));
        return (store, state);
    }

    private async Task<TxnResult> ApplyAsync(KvState state, byte format, params KvOp[] ops)
    {
        var holder = new ApplyResult();
        var command = new KvCommand(CommandKind.Txn, 1000 + _index, null, new KvTxn([], ops, [])) { FormatVersion = format };
        await state.ApplyEntryAsync(++_index, 1, false, CommandCodec.Encode(command), holder, CancellationToken.None);
        return await holder.Task;
    }

    private static async Task<StateHash> HashAsync(KvState state, long index)
    {
        var payload = CommandCodec.Encode(new KvCommand(CommandKind.HashCheck, 1000 + index, null, null));
        await state.ApplyEntryAsync(index, 1, false, payload, null, CancellationToken.None);
        return await state.Hashes.Find(index)!;
    }

    private static async Task<byte[]> CurrentAsync(KvState state, string key)
        => (await state.ReadRangeAsync(new RangeRequest(B(key)), CancellationToken.None)).Kvs.Single().Value.ToArray();

    private static byte[] B(string s) => Encoding.UTF8.GetBytes(s);

    private static string S(ReadOnlyMemory<byte> b) => Encoding.UTF8.GetString(b.Span);
}
