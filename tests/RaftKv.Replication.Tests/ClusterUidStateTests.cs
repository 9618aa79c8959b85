using System.Text;
using Microsoft.Extensions.Logging.Abstractions;
using RaftKv.Replication.Api;
using RaftKv.Replication.Commands;
using RaftKv.Replication.State;
using RaftKv.Storage;
using RaftKv.Storage.IO;

namespace RaftKv.Replication.Tests;

/// <summary>
/// The replicated cluster uid (<see cref="CommandKind.ClusterUid"/>) as the codec and the applier handle it: a
/// 16-byte body, first write wins on every replica alike, kept in the store (a restart and a checkpoint carry it),
/// outside the MVCC revision and the user key space.
/// </summary>
public sealed class ClusterUidStateTests : IAsyncLifetime
{
    private static readonly byte[] UidA = Convert.FromHexString("00112233445566778899aabbccddeeff");
    private static readonly byte[] UidB = Convert.FromHexString("ffeeddccbbaa99887766554433221100");
    private readonly TempDir _dir = new();
    private LsmStore _store = null!;
    private KvState _state = null!;
    private long _index;

    public async Task InitializeAsync()
    {
        _store = await LsmStore.OpenAsync(new LsmOptions { Directory = Path.Combine(_dir.Path, "lsm"), BackgroundWork = false });
        _state = await RestoreAsync(_store, Path.Combine(_dir.Path, "snapshots"));
    }

    public async Task DisposeAsync()
    {
        _state.Dispose();
        await _store.DisposeAsync();
        _dir.Dispose();
    }

    [Fact]
    public void TheCommandRoundTripsAndAMalformedUidIsRefused()
    {
        var back = CommandCodec.Decode(CommandCodec.Encode(new KvCommand(CommandKind.ClusterUid, 42, null, null, ClusterUid: UidA)));
        Assert.Equal(CommandKind.ClusterUid, back.Kind);
        Assert.Equal(42, back.TimestampUnixMs);
        Assert.Equal(UidA, back.ClusterUid);
        Assert.Equal(CommandCodec.CurrentVersion, back.FormatVersion);

        Assert.Throws<ArgumentException>(() => CommandCodec.Encode(new KvCommand(CommandKind.ClusterUid, 1, null, null)));
        Assert.Throws<ArgumentException>(() => CommandCodec.Encode(new KvCommand(CommandKind.ClusterUid, 1, null, null, ClusterUid: new byte[8])));

        // A hand-made payload with an 8-byte uid: refused, never applied as something else.
        var payload = CommandCodec.Encode(new KvCommand(CommandKind.ClusterUid, 1, null, null, ClusterUid: UidA));
        var shortened = payload[..^17].Concat(new byte[] { 8 }).Concat(new byte[8]).ToArray();
        Assert.Throws<UnsupportedCommandVersionException>(() => CommandCodec.Decode(shortened));
    }

    [Fact]
    public async Task TheFirstUidAppliedWinsOnEveryReplicaAndSurvivesARestart()
    {
        await PutAsync("k", "v");
        var revision = _state.Revision;
        Assert.Null(_state.ClusterUid);

        await ApplyUidAsync(_state, UidA);
        await ApplyUidAsync(_state, UidB); // a second leader's proposal, committed after: ignored
        Assert.Equal(UidA, _state.ClusterUid!.Value.ToArray());
        Assert.Equal(revision, _state.Revision); // no MVCC revision
        var (kvs, _, _) = await _state.ReadCurrentOrHistoryAsync([], [], false, true, 0, CancellationToken.None);
        Assert.Equal(["k"], kvs.Select(kv => Encoding.UTF8.GetString(kv.Key.Span))); // no user key

        // Another replica applying the same entries in the same order ends with the same uid.
        await using var other = await LsmStore.OpenAsync(new LsmOptions { Directory = Path.Combine(_dir.Path, "lsm2"), BackgroundWork = false });
        using var replica = await RestoreAsync(other, Path.Combine(_dir.Path, "snapshots2"));
        await replica.ApplyEntryAsync(1, 1, false, CommandCodec.Encode(new KvCommand(CommandKind.Txn, 1000, null, KvTxn.Single(KvOp.Put(B("k"), B("v"))))), null, CancellationToken.None);
        await replica.ApplyEntryAsync(2, 1, false, CommandCodec.Encode(new KvCommand(CommandKind.ClusterUid, 1001, null, null, ClusterUid: UidA)), null, CancellationToken.None);
        await replica.ApplyEntryAsync(3, 1, false, CommandCodec.Encode(new KvCommand(CommandKind.ClusterUid, 1002, null, null, ClusterUid: UidB)), null, CancellationToken.None);
        Assert.Equal(UidA, replica.ClusterUid!.Value.ToArray());
        Assert.Equal(_state.Revision, replica.Revision);

        _state.Dispose();
        _state = await RestoreAsync(_store, Path.Combine(_dir.Path, "snapshots")); // the record is in the store
        Assert.Equal(UidA, _state.ClusterUid!.Value.ToArray());
        await _store.FlushAsync();
        _state.Dispose();
        _state = await RestoreAsync(_store, Path.Combine(_dir.Path, "snapshots")); // and in its tables
        Assert.Equal(UidA, _state.ClusterUid!.Value.ToArray());
    }

    [Fact]
    public async Task ACheckpointCarriesTheUid()
    {
        await PutAsync("k", "v");
        await ApplyUidAsync(_state, UidB);
        var checkpoint = Path.Combine(_dir.Path, "cp");
        await _store.CheckpointAsync(checkpoint);

        // A snapshot install ingests a checkpoint like this one: the installed state has the uid.
        await using var other = await LsmStore.OpenAsync(new LsmOptions { Directory = Path.Combine(_dir.Path, "lsm2"), BackgroundWork = false });
        await other.IngestAsync(checkpoint);
        using var installed = await RestoreAsync(other, Path.Combine(_dir.Path, "snapshots2"));
        Assert.Equal(UidB, installed.ClusterUid!.Value.ToArray());
        Assert.Equal(_state.Revision, installed.Revision);
    }

    private static Task<KvState> RestoreAsync(LsmStore store, string snapshots)
        => KvState.RestoreAsync(store, PhysicalFileSystem.Instance, snapshots, NullLogger.Instance, TimeProvider.System, CancellationToken.None);

    private static byte[] B(string s) => Encoding.UTF8.GetBytes(s);

    private Task PutAsync(string key, string value)
        => _state.ApplyEntryAsync(++_index, 1, false, CommandCodec.Encode(new KvCommand(CommandKind.Txn, 1000 + _index, null, KvTxn.Single(KvOp.Put(B(key), B(value))))), null, CancellationToken.None).AsTask();

    private Task ApplyUidAsync(KvState state, byte[] uid)
        => state.ApplyEntryAsync(++_index, 1, false, CommandCodec.Encode(new KvCommand(CommandKind.ClusterUid, 1000 + _index, null, null, ClusterUid: uid)), null, CancellationToken.None).AsTask();
}
