using System.Text;
using Microsoft.Extensions.Logging.Abstractions;
using RaftKv.Replication.Api;
using RaftKv.Replication.Commands;
using RaftKv.Replication.State;
using RaftKv.Storage;
using RaftKv.Storage.IO;
using RaftKv.Storage.Tests;

namespace RaftKv.Replication.Tests;

/// <summary>
/// The applier on its own, over an LSM store whose tables are archived to an object store that is
/// switched off: outcomes depend only on local metadata, stale value-compare resolutions are
/// conflicts, and values for the proposer come from its pre-read, never from the object store.
/// </summary>
public sealed class KvStateApplyTests : IAsyncLifetime
{
    private readonly TempDir _dir = new();
    private readonly TempDir _objects = new();
    private DirectoryRemoteTableStore _remote = null!;
    private LsmStore _store = null!;
    private KvState _state = null!;
    private long _index;

    private static byte[] B(string s) => Encoding.UTF8.GetBytes(s);

    private static string Long(string s) => s.PadRight(100, '.');

    public async Task InitializeAsync()
    {
        _remote = new DirectoryRemoteTableStore(_objects.Path);
        _store = await LsmStore.OpenAsync(new LsmOptions { Directory = Path.Combine(_dir.Path, "lsm"), BackgroundWork = false, RemoteStore = _remote });
        _state = await KvState.RestoreAsync(_store, PhysicalFileSystem.Instance, Path.Combine(_dir.Path, "snapshots"), NullLogger.Instance, TimeProvider.System, CancellationToken.None);
    }

    private async Task<(TxnResult Result, ApplyResult Holder)> ApplyAsync(KvTxn txn, IReadOnlyList<ResolvedCompare?>? resolved = null, IReadOnlyList<KvEntry>? preRead = null, bool proposer = true)
    {
        var holder = new ApplyResult { PreRead = preRead ?? [] };
        var payload = CommandCodec.Encode(new KvCommand(CommandKind.Txn, 1000 + _index, txn.RequestId, txn, resolved));
        await _state.ApplyEntryAsync(++_index, 1, false, payload, proposer ? holder : null, CancellationToken.None);
        return (proposer ? await holder.Task : new TxnResult(_index, false, []), holder);
    }

    /// <summary>Writes "a" (long value) and "b", flushes and archives everything, then switches the object store off.</summary>
    private async Task<long> ArchiveAsync()
    {
        var a = (await ApplyAsync(new KvTxn([], [KvOp.Put(B("a"), B(Long("a1"))), KvOp.Put(B("b"), B(Long("b1")))], [], "rid-1"))).Result.Index;
        await _store.FlushAsync();
        foreach (var t in _store.ListTables())
        {
            Assert.True(await _store.ArchiveTableAsync(t.Id, $"t/{t.Id}.sst"));
        }

        _remote.Available = false;
        await Assert.ThrowsAsync<RemoteTierUnavailableException>(async () => await _store.GetAsync(B("a"), 0));
        return a;
    }

    [Fact]
    public async Task AStaleValueCompareResolutionIsAConflictThatAppliesNothing()
    {
        var a = await ArchiveAsync();
        var txn = new KvTxn([new KvCompare(B("a"), CompareTarget.Value, CompareOp.Equal, Value: B(Long("a1")))], [KvOp.Put(B("c"), B("x"))], [], "rid-2");

        var (stale, holder) = await ApplyAsync(txn, [new ResolvedCompare(a - 1, true)]);
        Assert.True(holder.Conflict);
        Assert.False(stale.Succeeded);
        Assert.Null(_store.GetMetadata(B("c"), 0));
        Assert.Equal(1, _state.ValueCompareConflicts);

        // The re-proposal with the same request id is applied (the conflict recorded no outcome for it).
        var (fresh, again) = await ApplyAsync(txn, [new ResolvedCompare(a, true)]);
        Assert.False(again.Conflict);
        Assert.True(fresh.Succeeded);
        Assert.NotNull(_store.GetMetadata(B("c"), 0));
        var (failed, _) = await ApplyAsync(txn with { RequestId = null }, [new ResolvedCompare(a, false)]);
        Assert.False(failed.Succeeded);
    }

    [Fact]
    public async Task MetadataOnlyOutcomesNeedNoObjectStore()
    {
        var a = await ArchiveAsync();
        var (cas, _) = await ApplyAsync(new KvTxn(
            [new KvCompare(B("a"), CompareTarget.Version, CompareOp.Equal, a), new KvCompare(B("b"), CompareTarget.Exists, CompareOp.Equal, Exists: true), new KvCompare(B("zz"), CompareTarget.Value, CompareOp.NotEqual, Value: B("v"))],
            [KvOp.Delete(B("b")), KvOp.DeletePrefix(B("a"))],
            []));
        Assert.True(cas.Succeeded);
        Assert.Equal([1L, 1L], cas.Results.Select(r => r.Deleted));
        var (retry, _) = await ApplyAsync(KvTxn.Single(KvOp.Put(B("a"), B("other")), "rid-1"));
        Assert.Equal(a, retry.Index); // the archived request-id record answered
        Assert.Null(_store.GetMetadata(B("a"), 0));
    }

    [Fact]
    public async Task ValuesForTheProposerComeFromItsPreReadNeverFromTheObjectStore()
    {
        var a = await ArchiveAsync();
        var pre = new KvEntry(B("a"), B(Long("a1")), a, 0, Tier.Object);
        var (withPre, h1) = await ApplyAsync(new KvTxn([], [KvOp.Get(B("a")), KvOp.Put(B("b"), B("b2"), prevKv: true)], []), preRead: [pre]);
        Assert.Equal(Long("a1"), Encoding.UTF8.GetString(withPre.Results[0].Entry!.Value.Value.Span));
        Assert.True(h1.ValueMissing); // "b" was not pre-read and only the object has its old value
        Assert.Null(withPre.Results[1].Previous);

        // A follower (no proposer here) does not look values up at all.
        await ApplyAsync(KvTxn.Single(KvOp.Delete(B("a"), prevKv: true)), proposer: false);
        Assert.Null(_store.GetMetadata(B("a"), 0));
    }

    [Fact]
    public async Task AVersion1ValueCompareIsEvaluatedAgainstTheValue()
    {
        await ApplyAsync(KvTxn.Single(KvOp.Put(B("k"), B("v1"))));
        var txn = new KvTxn([new KvCompare(B("k"), CompareTarget.Value, CompareOp.Equal, Value: B("v1"))], [KvOp.Put(B("k"), B("v2"))], []);
        var (r, _) = await ApplyAsync(txn); // no resolution: encoded as version 1
        Assert.True(r.Succeeded);
        Assert.Equal("v2", Encoding.UTF8.GetString(_store.GetMetadata(B("k"), 0)!.Value.LocalValue!.Value.Span));
    }

    public async Task DisposeAsync()
    {
        await _store.DisposeAsync();
        _dir.Dispose();
        _objects.Dispose();
    }
}
