using System.Text;
using Microsoft.Extensions.Logging.Abstractions;
using RaftKv.Replication.Api;
using RaftKv.Replication.Commands;
using RaftKv.Replication.State;
using RaftKv.Storage;
using RaftKv.Storage.IO;

namespace RaftKv.Replication.Tests;

/// <summary>
/// The TTL horizon (State/KvState.TtlHorizon.cs), which decides whether an idle leader must keep proposing ticks:
/// recorded by a new store with its first entry, raised by TTL puts only, kept across reopen and snapshots, and
/// unknown (tick as before) for a store that applied entries before the record existed.
/// </summary>
public sealed class TtlHorizonTests : IDisposable
{
    private readonly TempDir _dir = new();

    private static byte[] B(string s) => Encoding.UTF8.GetBytes(s);

    public void Dispose() => _dir.Dispose();

    private async Task<(LsmStore Store, KvState State)> OpenAsync(string name)
    {
        var store = await LsmStore.OpenAsync(new LsmOptions { Directory = Path.Combine(_dir.Path, name, "lsm"), BackgroundWork = false });
        var state = await KvState.RestoreAsync(store, PhysicalFileSystem.Instance, Path.Combine(_dir.Path, name, "snapshots"), NullLogger.Instance, TimeProvider.System, CancellationToken.None);
        return (store, state);
    }

    private static async Task ApplyAsync(KvState state, long index, long timestamp, params KvOp[] ops)
    {
        var payload = CommandCodec.Encode(new KvCommand(CommandKind.Txn, timestamp, null, new KvTxn([], [.. ops], []), null));
        await state.ApplyEntryAsync(index, 1, false, payload, null, CancellationToken.None);
    }

    private static async Task TickAsync(KvState state, long index, long timestamp)
        => await state.ApplyEntryAsync(index, 1, false, CommandCodec.Encode(new KvCommand(CommandKind.Tick, timestamp, null, null)), null, CancellationToken.None);

    [Fact]
    public async Task TtlPutsRaiseTheHorizonAndTheClockPassingItEndsTheLiveTtlKeys()
    {
        var (store, state) = await OpenAsync("a");
        await using (store)
        {
            using (state)
            {
                Assert.Equal(0, state.TtlHorizon);
                await ApplyAsync(state, 1, 1_000, KvOp.Put(B("plain"), B("v")));
                Assert.Equal(0, state.TtlHorizon);
                Assert.False(state.HasLiveTtlKeys);
                Assert.NotNull(store.GetMetadata(ReservedKeys.TtlHorizon, 0)); // a new store records "none yet" with its first entry

                await ApplyAsync(state, 2, 2_000, KvOp.Put(B("t1"), B("v"), ttlMs: 5_000), KvOp.Put(B("t2"), B("v"), ttlMs: 3_000));
                Assert.Equal(7_000, state.TtlHorizon);
                Assert.True(state.HasLiveTtlKeys);

                await ApplyAsync(state, 3, 3_000, KvOp.Put(B("t3"), B("v"), ttlMs: 1_000)); // expires earlier: no change
                Assert.Equal(7_000, state.TtlHorizon);
                await ApplyAsync(state, 4, 4_000, KvOp.Put(B("plain"), B("v2")));
                Assert.Equal(7_000, state.TtlHorizon);

                await TickAsync(state, 5, 6_999);
                Assert.True(state.HasLiveTtlKeys); // t1 is live until the clock reaches 7,000
                await TickAsync(state, 6, 7_000);
                Assert.False(state.HasLiveTtlKeys);
                Assert.Null(state.ReadMeta(B("t1"), state.LogicalClock));
                await store.FlushAsync(); // the store keeps what is flushed (the Raft log replays the rest)
            }
        }

        var (reopened, restored) = await OpenAsync("a");
        await using (reopened)
        {
            using (restored)
            {
                Assert.Equal(7_000, restored.TtlHorizon);
                Assert.False(restored.HasLiveTtlKeys);
            }
        }
    }

    [Fact]
    public async Task AStoreWithoutTheRecordThatAppliedEntriesHasAnUnknownHorizonUntilATtlPutRecordsOne()
    {
        // A store written before the record existed: entries applied (the clock record), no horizon record.
        var dir = Path.Combine(_dir.Path, "old", "lsm");
        await using (var old = await LsmStore.OpenAsync(new LsmOptions { Directory = dir, BackgroundWork = false }))
        {
            old.Apply(1, [WriteOp.Put(ReservedKeys.Clock, BitConverter.GetBytes(1_000L)), WriteOp.Put(B("k"), B("v"), 90_000)]);
            await old.FlushAsync();
        }

        var (store, state) = await OpenAsync("old");
        await using (store)
        {
            using (state)
            {
                Assert.Equal(long.MaxValue, state.TtlHorizon);
                Assert.True(state.HasLiveTtlKeys);
                await ApplyAsync(state, 2, 2_000, KvOp.Put(B("plain"), B("v")));
                Assert.Null(store.GetMetadata(ReservedKeys.TtlHorizon, 0)); // not a new store: "none yet" is not known
                await ApplyAsync(state, 3, 3_000, KvOp.Put(B("t"), B("v"), ttlMs: 1_000));
                Assert.Equal(long.MaxValue, state.TtlHorizon); // still unknown while open
                Assert.NotNull(store.GetMetadata(ReservedKeys.TtlHorizon, 0));
                await store.FlushAsync();
            }
        }

        var (reopened, restored) = await OpenAsync("old");
        await using (reopened)
        {
            using (restored)
            {
                Assert.Equal(4_000, restored.TtlHorizon);
            }
        }
    }

    [Fact]
    public async Task AnInstalledSnapshotBringsItsHorizon()
    {
        var (source, sourceState) = await OpenAsync("source");
        await using (source)
        {
            using (sourceState)
            {
                await ApplyAsync(sourceState, 1, 1_000, KvOp.Put(B("t"), B("v"), ttlMs: 60_000));
                await source.FlushAsync();
                await sourceState.TakeSnapshotAsync(CancellationToken.None);
                var snapshot = Assert.IsType<CheckpointSnapshot>(sourceState.Snapshot);

                var (target, targetState) = await OpenAsync("target");
                await using (target)
                {
                    using (targetState)
                    {
                        await ApplyAsync(targetState, 1, 500, KvOp.Put(B("x"), B("v")));
                        Assert.Equal(0, targetState.TtlHorizon);
                        await targetState.InstallSnapshotAsync(snapshot, snapshot.Index, CancellationToken.None);
                        Assert.Equal(61_000, targetState.TtlHorizon);
                        Assert.True(targetState.HasLiveTtlKeys);
                    }
                }
            }
        }
    }
}
