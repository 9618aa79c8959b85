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

    private async Task<(TxnResult Result, ApplyResult Holder)> ApplyAsync(KvTxn txn, IReadOnlyList<ResolvedCompare?>? resolved = null, IReadOnlyList<KeyValue>? preRead = null, bool proposer = true)
    {
        var holder = new ApplyResult { PreRead = preRead ?? [] };
        var payload = CommandCodec.Encode(new KvCommand(CommandKind.Txn, 1000 + _index, txn.RequestId, txn, resolved));
        await _state.ApplyEntryAsync(++_index, 1, false, payload, proposer ? holder : null, CancellationToken.None);
        return (proposer ? await holder.Task : new TxnResult(_index, false, []), holder);
    }

    private async Task GrantLeaseAsync(long id)
    {
        var payload = CommandCodec.Encode(new KvCommand(CommandKind.LeaseGrant, 1000 + _index, null, null, Lease: new RaftKv.Replication.Leases.LeaseCommand(id, 600)));
        await _state.ApplyEntryAsync(++_index, 1, false, payload, null, CancellationToken.None);
    }

    /// <summary>Writes "a" (long value) and "b", flushes and archives everything, then switches the object
    /// store off. Returns the write's result (its revision is the keys' mod revision).</summary>
    private async Task<TxnResult> ArchiveAsync()
    {
        var a = (await ApplyAsync(new KvTxn([], [KvOp.Put(B("a"), B(Long("a1"))), KvOp.Put(B("b"), B(Long("b1")))], [], "rid-1"))).Result;
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
        var a = (await ArchiveAsync()).Revision;
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
        var archived = await ArchiveAsync();
        var (cas, _) = await ApplyAsync(new KvTxn(
            [
                new KvCompare(B("a"), CompareTarget.Mod, CompareOp.Equal, archived.Revision), new KvCompare(B("a"), CompareTarget.Version, CompareOp.Equal, 1),
                new KvCompare(B("a"), CompareTarget.Create, CompareOp.Equal, archived.Revision), new KvCompare(B("a"), CompareTarget.Lease, CompareOp.Equal, 0),
                new KvCompare(B("b"), CompareTarget.Exists, CompareOp.Equal, Exists: true),
                new KvCompare(B("a"), CompareTarget.Version, CompareOp.Equal, 1, RangeEnd: B("c")),
            ],
            [KvOp.Delete(B("b")), KvOp.DeletePrefix(B("a"))],
            []));
        Assert.True(cas.Succeeded);
        Assert.Equal([1L, 1L], cas.Results.Select(r => r.Deleted));

        // A value compare over an empty range reads no value: it fails, as etcd's does ("nil == empty
        // string in grpc; no way to represent missing value").
        var (emptyRange, _) = await ApplyAsync(new KvTxn([new KvCompare(B("zz"), CompareTarget.Value, CompareOp.NotEqual, Value: B("v"), RangeEnd: B("zzz"))], [KvOp.Put(B("c"), B("x"))], []));
        Assert.False(emptyRange.Succeeded);
        var (retry, _) = await ApplyAsync(KvTxn.Single(KvOp.Put(B("a"), B("other")), "rid-1"));
        Assert.Equal(archived.Index, retry.Index); // the archived request-id record answered
        Assert.Equal(archived.Revision, retry.Revision);
        Assert.Null(_store.GetMetadata(B("a"), 0));
    }

    [Fact]
    public async Task ValuesForTheProposerComeFromItsPreReadNeverFromTheObjectStore()
    {
        var a = (await ArchiveAsync()).Revision;
        var pre = new KeyValue(B("a"), B(Long("a1")), a, a, 1, 0, 0, Tier.Object);
        var (withPre, h1) = await ApplyAsync(new KvTxn([], [KvOp.Get(B("a")), KvOp.Put(B("b"), B("b2"), prevKv: true)], []), preRead: [pre]);
        Assert.Equal(Long("a1"), Encoding.UTF8.GetString(withPre.Results[0].Entry!.Value.Value.Span));
        Assert.True(h1.ValueMissing); // "b" was not pre-read and only the object has its old value: the proposer
        Assert.Equal(0, withPre.Results[1].Previous?.Value.Length ?? 0); // answers "outcome unknown" (KvNode.Resolve), never a made-up value

        // A follower (no proposer here) does not look values up at all.
        await ApplyAsync(KvTxn.Single(KvOp.Delete(B("a"), prevKv: true)), proposer: false);
        Assert.Null(_store.GetMetadata(B("a"), 0));
    }

    [Fact]
    public async Task AVersion1ValueCompareIsEvaluatedAgainstTheValue()
    {
        await ApplyAsync(KvTxn.Single(KvOp.Put(B("k"), B("v1"))));
        var txn = new KvTxn([new KvCompare(B("k"), CompareTarget.Value, CompareOp.Equal, Value: B("v1"))], [KvOp.Put(B("k"), B("v2"))], []);
        _ = txn;

        // An entry as written by the release before format version 2 (bytes fixed here, not re-encoded):
        // Txn, timestamp 7, compare Value("k") == "v1", success Put("k", "v2").
        byte[] v1 = [0x4B, 1, 1, 0x07, 0x00, 1, 1, (byte)'k', 1, 0, 0, 3, (byte)'v', (byte)'1', 0, 1, 1, 1, (byte)'k', 3, (byte)'v', (byte)'2', 0, 0, 0, 0];
        var holder = new ApplyResult();
        await _state.ApplyEntryAsync(++_index, 1, false, v1, holder, CancellationToken.None);
        var r = await holder.Task;
        Assert.True(r.Succeeded);
        Assert.Equal("v2", Encoding.UTF8.GetString(_store.GetMetadata(B("k"), 0)!.Value.LocalValue!.Value.Span));
    }

    [Fact]
    public async Task MvccMetadataNeedsNoObjectStoreAndHistorySurvivesArchiving()
    {
        var archived = await ArchiveAsync(); // "a" and "b" at revision 2, archived; the object store is off
        await GrantLeaseAsync(3); // a put may name only a granted lease (no revision)
        var (put, _) = await ApplyAsync(KvTxn.Single(new KvOp(KvOpKind.Put, B("a"), B("a2"), Lease: 3)));
        Assert.True(put.Succeeded);
        Assert.Equal(archived.Revision + 1, put.Revision);
        Assert.Equal(new KeyMeta(archived.Revision, put.Revision, 2, 3, 0), _state.ReadMeta(B("a"), 0)); // create/version from the archived keys file
        var (keepLease, _) = await ApplyAsync(KvTxn.Single(new KvOp(KvOpKind.Put, B("a"), B("a3"), IgnoreLease: true)));
        Assert.Equal(3, _state.ReadMeta(B("a"), 0)!.Value.Lease);
        var (cmp, _) = await ApplyAsync(new KvTxn([new KvCompare(B("b"), CompareTarget.Create, CompareOp.Equal, Revision: archived.Revision)], [KvOp.Delete(B("b"))], []));
        Assert.True(cmp.Succeeded);

        // The history of the archived revision is in the archived table: readable once the object store is back.
        await Assert.ThrowsAsync<RemoteTierUnavailableException>(() => _state.ReadRangeAsync(new RangeRequest(B("a"), Revision: archived.Revision), CancellationToken.None));
        _remote.Available = true;
        var old = await _state.ReadRangeAsync(new RangeRequest(B("a"), B("c"), Revision: archived.Revision), CancellationToken.None);
        Assert.Equal([Long("a1"), Long("b1")], old.Kvs.Select(kv => Encoding.UTF8.GetString(kv.Value.Span)));
        var mid = await _state.ReadRangeAsync(new RangeRequest(B("a"), B("c"), Revision: keepLease.Revision), CancellationToken.None);
        Assert.Equal(["a3", Long("b1")], mid.Kvs.Select(kv => Encoding.UTF8.GetString(kv.Value.Span)));
        var now = await _state.ReadRangeAsync(new RangeRequest(B("a"), B("c")), CancellationToken.None);
        Assert.Equal(["a"], now.Kvs.Select(kv => Encoding.UTF8.GetString(kv.Key.Span)));
        var changes = await _state.ReadChangesAsync(B("a"), B("c"), false, 1, cmp.Revision, true, CancellationToken.None);
        Assert.Equal([archived.Revision, put.Revision, keepLease.Revision, cmp.Revision], changes.Select(x => x.Revision));
        Assert.Equal(2, changes[0].Events.Count);
        Assert.Equal(Long("b1"), Encoding.UTF8.GetString(changes[3].Events[0].PrevKv!.Value.Value.Span));
    }

    public async Task DisposeAsync()
    {
        await _store.DisposeAsync();
        _dir.Dispose();
        _objects.Dispose();
    }
}
