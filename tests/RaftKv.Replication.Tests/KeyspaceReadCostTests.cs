using System.Text;
using Microsoft.Extensions.Logging.Abstractions;
using RaftKv.Replication.Api;
using RaftKv.Replication.Commands;
using RaftKv.Replication.State;
using RaftKv.Storage;
using RaftKv.Storage.IO;

namespace RaftKv.Replication.Tests;

/// <summary>
/// The cost of whole-key-space and limited history reads, counted in store entries read and keys kept (a
/// deterministic measure, unlike time): the key-space stream (HashKV) reads each history record once, and a
/// history Range with a limit keeps limit + 1 keys however large the range.
/// </summary>
public sealed class KeyspaceReadCostTests : IAsyncLifetime
{
    private const int Keys = 3000;
    private readonly TempDir _dir = new();
    private CountingStore _store = null!;
    private KvState _state = null!;
    private long _index;

    private static byte[] B(string s) => Encoding.UTF8.GetBytes(s);

    public async Task InitializeAsync()
    {
        _store = new CountingStore(await LsmStore.OpenAsync(new LsmOptions { Directory = Path.Combine(_dir.Path, "lsm"), BackgroundWork = false }));
        _state = await KvState.RestoreAsync(_store, PhysicalFileSystem.Instance, Path.Combine(_dir.Path, "snapshots"), NullLogger.Instance, TimeProvider.System, CancellationToken.None);
    }

    public async Task DisposeAsync()
    {
        _state.Dispose();
        await _store.DisposeAsync();
        _dir.Dispose();
    }

    private async Task ApplyAsync(IEnumerable<KvOp> ops)
        => await _state.ApplyEntryAsync(++_index, 1, false, CommandCodec.Encode(new KvCommand(CommandKind.Txn, 1000 + _index, null, new KvTxn([], ops.ToList(), []))), null, CancellationToken.None);

    /// <summary>3,000 keys in txns of 100 (revisions 2..31), then every third key overwritten (revision 32):
    /// 4,000 history records. Returns the revision before the overwrite.</summary>
    private async Task<long> PopulateAsync()
    {
        for (var i = 0; i < Keys; i += 100)
        {
            await ApplyAsync(Enumerable.Range(i, 100).Select(k => KvOp.Put(B($"k/{k:D5}"), B($"v{k}"))));
        }

        var past = _state.Revision;
        await ApplyAsync(Enumerable.Range(0, Keys / 3).Select(k => KvOp.Put(B($"k/{k * 3:D5}"), B("again"))));
        await _store.FlushAsync();
        return past;
    }

    [Fact]
    public async Task TheKeyspaceStreamReadsEachHistoryRecordOnce()
    {
        var past = await PopulateAsync();
        foreach (var revision in new[] { past, _state.Revision })
        {
            Interlocked.Exchange(ref _store.EntriesRead, 0);
            var keys = 0;
            await foreach (var kv in _state.StreamHistoryAsync([0], [], revision, CancellationToken.None))
            {
                keys++;
            }

            Assert.Equal(Keys, keys);
            Assert.Equal(Keys + (Keys / 3), Interlocked.Read(ref _store.EntriesRead)); // one pass: 4,000 records, once each
        }
    }

    [Fact]
    public async Task AHistoryRangeWithALimitKeepsLimitPlusOneKeysAndCountsTheRest()
    {
        var past = await PopulateAsync();
        var (kept, count) = await _state.ReadHistoryAsync(B("k/"), B("k0"), false, past, 3, CancellationToken.None);
        Assert.Equal((3, (long)Keys), (kept.Count, count));
        Assert.Equal(["k/00000", "k/00001", "k/00002"], kept.Select(kv => Encoding.UTF8.GetString(kv.Key.Span)));

        var range = await _state.ReadRangeAsync(new RangeRequest(B("k/"), B("k0"), Limit: 2, Revision: past), CancellationToken.None);
        Assert.Equal((2, true, (long)Keys), (range.Kvs.Count, range.More, range.Count));
        Assert.Equal("v0", Encoding.UTF8.GetString(range.Kvs[0].Value.Span)); // the value at the past revision
        var counted = await _state.ReadRangeAsync(new RangeRequest(B("k/"), B("k0"), CountOnly: true, Revision: past), CancellationToken.None);
        Assert.Equal((0, (long)Keys), (counted.Kvs.Count, counted.Count));
    }
}
