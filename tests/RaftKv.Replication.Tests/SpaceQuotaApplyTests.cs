using System.Text;
using Microsoft.Extensions.Logging.Abstractions;
using RaftKv.Replication.Api;
using RaftKv.Replication.Commands;
using RaftKv.Replication.Leases;
using RaftKv.Replication.State;
using RaftKv.Storage;
using RaftKv.Storage.IO;

namespace RaftKv.Replication.Tests;

/// <summary>
/// The NOSPACE refusal is the applier's decision (etcd's <c>applierV3Capped</c>), made from the replicated
/// alarm list alone: entries that add data are refused with <see cref="NoSpaceException"/> and apply nothing
/// but the clock, whether or not a proposer is waiting (every replica decides alike); deletes, reads and
/// compaction apply; disarming lets puts through again.
/// </summary>
public sealed class SpaceQuotaApplyTests : IAsyncLifetime
{
    private readonly TempDir _dir = new();
    private LsmStore _store = null!;
    private KvState _state = null!;
    private long _index;

    private static byte[] B(string s) => Encoding.UTF8.GetBytes(s);

    public async Task InitializeAsync()
    {
        _store = await LsmStore.OpenAsync(new LsmOptions { Directory = Path.Combine(_dir.Path, "lsm"), BackgroundWork = false });
        _state = await KvState.RestoreAsync(_store, PhysicalFileSystem.Instance, Path.Combine(_dir.Path, "snapshots"), NullLogger.Instance, TimeProvider.System, CancellationToken.None);
    }

    public async Task DisposeAsync()
    {
        _state.Dispose();
        await _store.DisposeAsync();
        _dir.Dispose();
    }

    /// <summary>Applies <paramref name="command"/> as the next entry; the proposer's outcome (or its error).</summary>
    private async Task<(TxnResult? Result, Exception? Error)> ApplyAsync(KvCommand command)
    {
        var holder = new ApplyResult();
        await _state.ApplyEntryAsync(++_index, 1, false, CommandCodec.Encode(command), holder, CancellationToken.None);
        try
        {
            return (await holder.Task, null);
        }
        catch (Exception e)
        {
            return (null, e);
        }
    }

    private Task<(TxnResult? Result, Exception? Error)> TxnAsync(KvTxn txn) => ApplyAsync(new KvCommand(CommandKind.Txn, 1000 + _index, txn.RequestId, txn));

    private Task<(TxnResult? Result, Exception? Error)> AlarmAsync(bool active)
        => ApplyAsync(new KvCommand(CommandKind.Alarm, 1000 + _index, null, null, Alarm: new AlarmChange(active, AlarmType.NoSpace, active ? 2 : 0, active ? _index : 0)));

    [Fact]
    public async Task WhileNoSpaceIsActiveWritesThatAddDataAreRefusedAtApplyAndNothingElseIs()
    {
        Assert.Null((await TxnAsync(KvTxn.Single(KvOp.Put(B("a"), B("1"))))).Error);
        Assert.Null((await TxnAsync(KvTxn.Single(KvOp.Put(B("b"), B("1"))))).Error);
        var revision = _state.Revision;
        Assert.Null((await AlarmAsync(active: true)).Error);
        Assert.Equal(AlarmType.NoSpace, Assert.Single(_state.Alarms.Active).Alarm);

        // Refused: a put, a txn whose put is only in the branch that does not run (etcd counts both
        // branches), a nested put, a lease grant. Nothing of them is applied, the revision stays.
        var put = await TxnAsync(KvTxn.Single(KvOp.Put(B("c"), B("1"))));
        Assert.IsType<NoSpaceException>(put.Error);
        var failureBranch = await TxnAsync(new KvTxn([new KvCompare(B("a"), CompareTarget.Exists, CompareOp.Equal, Exists: true)], [KvOp.Get(B("a"))], [KvOp.Put(B("d"), B("1"))]));
        Assert.IsType<NoSpaceException>(failureBranch.Error);
        var nested = await TxnAsync(new KvTxn([], [KvOp.Txn(new KvTxn([], [KvOp.Put(B("e"), B("1"))], []))], []));
        Assert.IsType<NoSpaceException>(nested.Error);
        var grant = await ApplyAsync(new KvCommand(CommandKind.LeaseGrant, 1000 + _index, null, null, Lease: new LeaseCommand(77, 600)));
        Assert.IsType<NoSpaceException>(grant.Error);
        Assert.False(_state.Leases.Contains(77));
        Assert.Null(_store.GetMetadata(B("c"), 0));
        Assert.Null(_store.GetMetadata(B("d"), 0));
        Assert.Null(_store.GetMetadata(B("e"), 0));
        Assert.Equal(revision, _state.Revision);

        // The same entry without a proposer waiting (a follower's apply) is refused alike.
        var holderless = CommandCodec.Encode(new KvCommand(CommandKind.Txn, 1000 + _index, null, KvTxn.Single(KvOp.Put(B("f"), B("1")))));
        await _state.ApplyEntryAsync(++_index, 1, false, holderless, null, CancellationToken.None);
        Assert.Null(_store.GetMetadata(B("f"), 0));

        // Deletes, read-only txns and compaction apply.
        var delete = await TxnAsync(KvTxn.Single(KvOp.Delete(B("b"))));
        Assert.Null(delete.Error);
        Assert.Null(_store.GetMetadata(B("b"), 0));
        Assert.Null((await TxnAsync(new KvTxn([], [KvOp.Get(B("a"))], []))).Error);
        Assert.Null((await ApplyAsync(new KvCommand(CommandKind.Compact, 1000 + _index, null, null, Revision: _state.Revision))).Error);
        Assert.Equal(5, _state.NoSpaceRefusals);

        // Disarmed: puts apply again.
        Assert.Null((await AlarmAsync(active: false)).Error);
        Assert.Empty(_state.Alarms.Active);
        Assert.Null((await TxnAsync(KvTxn.Single(KvOp.Put(B("c"), B("2"))))).Error);
        Assert.NotNull(_store.GetMetadata(B("c"), 0));
    }
}
