using System.Text;
using Microsoft.Extensions.Logging.Abstractions;
using RaftKv.Replication.Api;
using RaftKv.Replication.Commands;
using RaftKv.Replication.State;
using RaftKv.Storage;
using RaftKv.Storage.IO;
using Xunit.Abstractions;

namespace RaftKv.Replication.Tests;

/// <summary>
/// Model-based (metamorphic) test of the MVCC layer: seeded random puts, deletes, range deletes, txns
/// with compares, reads at random revisions and compactions, applied to <see cref="KvState"/> over a real
/// LSM store and to a plain in-memory model of etcd's semantics, with flushes, storage compactions,
/// restarts (replaying the entries past the durable index, as the Raft log would) and checkpoint
/// ingests (a snapshot install) interleaved. Every read is compared with the model.
/// A third of the txns' ranges read at a revision (format version 6: the history, or the whole txn fails when the
/// revision is future or compacted; their answers are the proposer's history reads, completed after the apply).
/// Layouts are mixed: each write is a command of format version 3, 4, 5 or 6 at random, and a sixth of the values are
/// large (≥ <see cref="MvccLayout.LargeValueMinBytes"/>), so keys move between a value kept twice and kept once
/// (layout version 3) and every read must not tell the difference.
/// Seed: <c>RAFTKV_MVCC_SEED</c> (default: random, printed); ops: <c>RAFTKV_MVCC_OPS</c> (default 600).
/// </summary>
public sealed class MvccModelTests(ITestOutputHelper output)
{
    private static readonly string[] Keys = ["a", "b", "c", "d", "e", "f", "g", "h"];

    private static readonly byte[] Formats = [CommandCodec.CurrentVersion, CommandCodec.TxnPathVersion, CommandCodec.ValueOnceVersion, CommandCodec.RangeRevisionVersion];

    private sealed record Version(long Create, long Mod, long Ver, long Lease, string Value);

    [Fact]
    public async Task RandomOpsMatchTheModel()
    {
        var seed = int.TryParse(Environment.GetEnvironmentVariable("RAFTKV_MVCC_SEED"), out var s) ? s : Random.Shared.Next();
        var count = int.TryParse(Environment.GetEnvironmentVariable("RAFTKV_MVCC_OPS"), out var n) ? n : 600;
        output.WriteLine($"RAFTKV_MVCC_SEED={seed} RAFTKV_MVCC_OPS={count}");
        var rng = new Random(seed);
        using var dir = new TempDir();
        var lsm = Path.Combine(dir.Path, "lsm");
        var snaps = Path.Combine(dir.Path, "snapshots");
        KvState? current = null;

        // The MVCC history filter runs in every storage compaction: physical removal must not change any read.
        async Task<LsmStore> Open(string path)
            => await LsmStore.OpenAsync(new LsmOptions
            {
                Directory = path,
                BackgroundWork = false,
                CompactionFilterFactory = () => current is { CompactRevision: > 0 } st ? new HistoryCompactionFilter(st.CompactRevision) : null,
            });

        var store = await Open(lsm);
        var state = await KvState.RestoreAsync(store, PhysicalFileSystem.Instance, snaps, NullLogger.Instance, TimeProvider.System, CancellationToken.None);
        current = state;
        var log = new List<byte[]>(); // entry i+1's payload, as the Raft log keeps it
        var history = Keys.ToDictionary(k => k, _ => new List<(long Rev, Version? V)>());
        long revision = 1, compacted = 0;

        Version? At(string key, long rev) => history[key].LastOrDefault(x => x.Rev <= rev) is { Rev: > 0 } h ? h.V : null;

        ApplyResult holder = new();
        async Task<TxnResult> Apply(KvCommand command, byte? format = null)
        {
            if (command.Kind == CommandKind.Txn)
            {
                command = command with { FormatVersion = format ?? Formats[rng.Next(Formats.Length)] };
            }

            var payload = CommandCodec.Encode(command);
            log.Add(payload);
            holder = new ApplyResult();
            await state.ApplyEntryAsync(log.Count, 1, false, payload, holder, CancellationToken.None);
            return await holder.Task;
        }

        try
        {
            for (var id = 1; id <= 2; id++)
            {
                // The random puts name leases 0-2: a put may name only a granted lease. Granting moves no revision.
                await Apply(new KvCommand(CommandKind.LeaseGrant, 0, null, null, Lease: new RaftKv.Replication.Leases.LeaseCommand(id, 3600)));
            }

            for (var step = 0; step < count; step++)
            {
                var roll = rng.Next(100);
                var key = Keys[rng.Next(Keys.Length)];
                if (roll < 30)
                {
                    var value = Value(rng, "v", step);
                    var lease = rng.Next(3);
                    var r = await Apply(new KvCommand(CommandKind.Txn, step, null, KvTxn.Single(new KvOp(KvOpKind.Put, B(key), B(value), Lease: lease))));
                    revision++;
                    Assert.Equal(revision, r.Revision);
                    var prev = At(key, revision);
                    history[key].Add((revision, new Version(prev?.Create ?? revision, revision, (prev?.Ver ?? 0) + 1, lease, value)));
                }
                else if (roll < 40)
                {
                    var end = Keys[Math.Min(Keys.Length - 1, Array.IndexOf(Keys, key) + rng.Next(1, 4))];
                    var op = rng.Next(2) == 0 ? KvOp.Delete(B(key)) : KvOp.DeleteRange(B(key), B(end));
                    var targets = op.Kind == KvOpKind.Delete ? [key] : Keys.Where(k => string.CompareOrdinal(k, key) >= 0 && string.CompareOrdinal(k, end) < 0).ToArray();
                    var live = targets.Where(k => At(k, revision) is not null).ToList();
                    var r = await Apply(new KvCommand(CommandKind.Txn, step, null, KvTxn.Single(op)));
                    Assert.Equal(live.Count, r.Results[0].Deleted);
                    if (live.Count > 0)
                    {
                        revision++;
                        foreach (var k in live)
                        {
                            history[k].Add((revision, null));
                        }
                    }

                    Assert.Equal(revision, r.Revision);
                }
                else if (roll < 55)
                {
                    var cur = At(key, revision);
                    var target = (CompareTarget)new[] { 0, 3, 4, 5 }[rng.Next(4)];
                    var actual = target switch { CompareTarget.Version => cur?.Ver ?? 0, CompareTarget.Create => cur?.Create ?? 0, CompareTarget.Mod => cur?.Mod ?? 0, _ => cur?.Lease ?? 0 };
                    var operand = actual + rng.Next(-1, 2);
                    var cmpOp = (CompareOp)rng.Next(4);
                    var holds = cmpOp switch { CompareOp.Equal => actual == operand, CompareOp.NotEqual => actual != operand, CompareOp.Greater => actual > operand, _ => actual < operand };
                    var other = Keys[rng.Next(Keys.Length)];
                    var value = Value(rng, "t", step);
                    // Both branches end with a random range read: in the success branch it reads the txn's own
                    // write (a range inside a write txn, TxnApply.Range), in the failure branch the state before it.
                    // A third read at a revision (format 6), a quarter of those at a future or compacted one: the whole txn fails.
                    var atRevision = rng.Next(3) == 0;
                    var (txnRange, txnEnd) = RandomRange(rng, key, compacted, revision, current: !atRevision, out var txnRev);
                    if (atRevision && rng.Next(4) == 0)
                    {
                        txnRev = rng.Next(2) == 0 || compacted < 2 ? revision + 1 + rng.Next(2) : compacted - 1;
                        txnRange = txnRange with { Revision = txnRev };
                    }

                    var txn = new KvTxn([new KvCompare(B(key), target, cmpOp, operand)], [KvOp.Put(B(other), B(value)), KvOp.RangeRead(txnRange)], [KvOp.RangeRead(txnRange)]);
                    if (txnRev > revision || (txnRev != 0 && txnRev < compacted))
                    {
                        var refused = await Assert.ThrowsAnyAsync<Exception>(() => Apply(new KvCommand(CommandKind.Txn, step, null, txn), CommandCodec.RangeRevisionVersion));
                        Assert.IsType(txnRev > revision ? typeof(FutureRevisionException) : typeof(RevisionCompactedException), refused);
                        Assert.Equal(revision, state.Revision); // nothing applied
                        continue;
                    }

                    var r = await Apply(new KvCommand(CommandKind.Txn, step, null, txn), txnRev != 0 ? CommandCodec.RangeRevisionVersion : null);
                    Assert.Equal(holds, r.Succeeded);
                    if (holds)
                    {
                        revision++;
                        var prev = At(other, revision);
                        history[other].Add((revision, new Version(prev?.Create ?? revision, revision, (prev?.Ver ?? 0) + 1, 0, value)));
                    }

                    var txnResult = r.Results[^1];
                    var range = txnRev == 0 ? txnResult.Range! : await Assert.Single(holder.HistoryReads!, h => ReferenceEquals(h.Placeholder, txnResult)).Read;
                    AssertRange(txnRange, Model(txnRange, txnRev == 0 ? revision : txnRev, At, key, txnEnd), range, revision);

                    Assert.Equal(revision, r.Revision);
                }
                else if (roll < 85)
                {
                    var (request, end) = RandomRange(rng, key, compacted, revision, current: false, out var rev);
                    var got = await state.ReadRangeAsync(request, CancellationToken.None);
                    AssertRange(request, Model(request, rev == 0 ? revision : rev, At, key, end), got, revision);

                    // The whole key space at that revision, streamed (HashKV's read): every live key, in key order.
                    var at = rev == 0 ? revision : rev;
                    var streamed = new List<string>();
                    await foreach (var kv in state.StreamHistoryAsync([0], [], at, CancellationToken.None))
                    {
                        streamed.Add($"{S(kv.Key)}={S(kv.Value)}@{kv.CreateRevision}/{kv.ModRevision}/{kv.Version}/{kv.Lease}");
                    }

                    var model = Keys.Select(k => (k, V: At(k, at))).Where(x => x.V is not null).Select(x => $"{x.k}={x.V!.Value}@{x.V.Create}/{x.V.Mod}/{x.V.Ver}/{x.V.Lease}");
                    Assert.True(model.SequenceEqual(streamed), $"key space at {at}: expected {string.Join(",", model)}; got {string.Join(",", streamed)}");
                }
                else if (roll < 90 && revision > compacted + 1)
                {
                    var to = compacted + 1 + rng.NextInt64(revision - compacted);
                    await Apply(new KvCommand(CommandKind.Compact, step, null, null, Revision: to));
                    compacted = to;
                    Assert.Equal(compacted, state.CompactRevision);
                    if (compacted > 1)
                    {
                        await Assert.ThrowsAsync<RevisionCompactedException>(() => state.ReadRangeAsync(new RangeRequest(B("a"), Revision: compacted - 1), CancellationToken.None));
                    }
                }
                else if (roll < 94)
                {
                    await store.FlushAsync();
                }
                else if (roll < 96)
                {
                    await store.CompactAsync(state.LogicalClock);
                }
                else if (roll < 98)
                {
                    // Restart: reopen and replay what is not durable, as the Raft log would.
                    state.Dispose();
                    await store.DisposeAsync();
                    store = await Open(lsm);
                    state = await KvState.RestoreAsync(store, PhysicalFileSystem.Instance, snaps, NullLogger.Instance, TimeProvider.System, CancellationToken.None);
                    for (var i = store.AppliedIndex + 1; i <= log.Count; i++)
                    {
                        await state.ApplyEntryAsync(i, 1, false, log[(int)i - 1], null, CancellationToken.None);
                    }
                }
                else
                {
                    // Snapshot install: checkpoint this store, ingest it into a fresh one.
                    var checkpoint = Path.Combine(dir.Path, $"cp-{step}");
                    await store.CheckpointAsync(checkpoint);
                    state.Dispose();
                    await store.DisposeAsync();
                    var fresh = Path.Combine(dir.Path, $"lsm-{step}");
                    store = await Open(fresh);
                    await store.IngestAsync(checkpoint);
                    lsm = fresh;
                    state = await KvState.RestoreAsync(store, PhysicalFileSystem.Instance, snaps, NullLogger.Instance, TimeProvider.System, CancellationToken.None);
                    for (var i = store.AppliedIndex + 1; i <= log.Count; i++)
                    {
                        await state.ApplyEntryAsync(i, 1, false, log[(int)i - 1], null, CancellationToken.None);
                    }
                }

                Assert.Equal(revision, state.Revision);
                current = state;
            }
        }
        finally
        {
            state.Dispose();
            await store.DisposeAsync();
        }
    }

    /// <summary>A random range over <paramref name="key"/> with every option: at a random revision in
    /// [compacted, revision] or 0, or always at 0 when <paramref name="current"/> (as inside a txn).</summary>
    private static (RangeRequest Request, byte[]? End) RandomRange(Random rng, string key, long compacted, long revision, bool current, out long rev)
    {
        rev = current || rng.Next(3) == 0 ? 0 : compacted + rng.NextInt64(Math.Max(1, revision - compacted + 1));
        rev = rev == 0 ? 0 : Math.Max(rev, Math.Max(compacted, 1));

        var end = rng.Next(3) switch { 0 => (byte[]?)null, 1 => [0], _ => B(Keys[rng.Next(Keys.Length)] + "~") };
        var request = new RangeRequest(
            B(key), end, Limit: rng.Next(4), Revision: rev, SortOrder: (SortOrder)rng.Next(3), SortTarget: rng.Next(2) == 0 ? SortTarget.Key : (SortTarget)rng.Next(5),
            KeysOnly: rng.Next(4) == 0, CountOnly: rng.Next(6) == 0, MinModRevision: rng.Next(3) == 0 ? rng.NextInt64(revision + 1) : 0, MaxCreateRevision: rng.Next(3) == 0 ? rng.NextInt64(revision + 1) : 0);
        return (request, end);
    }

    private static void AssertRange(RangeRequest request, (List<string> Kvs, long Count, bool More) expected, RangeResult got, long revision)
    {
        Assert.Equal(revision, got.Revision);
        Assert.Equal(expected.Count, got.Count);
        Assert.True(expected.More == got.More, $"more: expected {expected.More}, got {got.More} for {request} at revision {revision} (expected {string.Join(",", expected.Kvs)}; got {string.Join(",", got.Kvs.Select(kv => S(kv.Key)))})");
        var gotKvs = got.Kvs.Select(kv => $"{S(kv.Key)}={S(kv.Value)}@{kv.CreateRevision}/{kv.ModRevision}/{kv.Version}/{kv.Lease}").ToList();
        Assert.True(expected.Kvs.SequenceEqual(gotKvs), $"kvs for {request} at revision {revision}: expected {string.Join(",", expected.Kvs)}; got {string.Join(",", gotKvs)}");
    }

    private static (List<string> Kvs, long Count, bool More) Model(RangeRequest r, long rev, Func<string, long, Version?> at, string key, byte[]? end)
    {
        var inRange = end is null ? [key]
            : end is [0] ? Keys.Where(k => string.CompareOrdinal(k, key) >= 0)
            : Keys.Where(k => string.CompareOrdinal(k, key) >= 0 && string.CompareOrdinal(k, Encoding.UTF8.GetString(end)) < 0);
        var live = inRange.Select(k => (Key: k, V: at(k, rev))).Where(x => x.V is not null).Select(x => (x.Key, V: x.V!)).ToList();
        var q = live.Where(x => (r.MinModRevision == 0 || x.V.Mod >= r.MinModRevision) && (r.MaxCreateRevision == 0 || x.V.Create <= r.MaxCreateRevision));
        if (r.SortOrder == SortOrder.None && r.MinModRevision == 0 && r.MaxCreateRevision == 0 && r.Limit > 0)
        {
            q = q.Take((int)r.Limit + 1); // etcd reads limit + 1 keys in key order before a defaulted (non-key) sort
        }

        var order = r.SortOrder == SortOrder.None && r.SortTarget != SortTarget.Key ? SortOrder.Ascend : r.SortOrder;
        if (order != SortOrder.None && !(order == SortOrder.Ascend && r.SortTarget == SortTarget.Key))
        {
            var descend = order == SortOrder.Descend ? -1 : 1; // stable: ties keep key order (etcd's)
            var list0 = q.ToList();
            list0.Sort((x, y) =>
            {
                var c = r.SortTarget switch
                {
                    SortTarget.Version => x.V.Ver.CompareTo(y.V.Ver),
                    SortTarget.Create => x.V.Create.CompareTo(y.V.Create),
                    SortTarget.Mod => x.V.Mod.CompareTo(y.V.Mod),
                    SortTarget.Value => string.CompareOrdinal(x.V.Value, y.V.Value),
                    _ => string.CompareOrdinal(x.Key, y.Key),
                };
                return c != 0 ? descend * c : string.CompareOrdinal(x.Key, y.Key);
            });
            q = list0;
        }

        var list = q.ToList();
        var more = !r.CountOnly && r.Limit > 0 && list.Count > r.Limit; // etcd: count_only fetches no kvs, so more stays false
        if (more)
        {
            list = list.Take((int)r.Limit).ToList();
        }

        var kvs = r.CountOnly ? [] : list.Select(x => $"{x.Key}={(r.KeysOnly ? string.Empty : x.V.Value)}@{x.V.Create}/{x.V.Mod}/{x.V.Ver}/{x.V.Lease}").ToList();
        return (kvs, live.Count, more);
    }

    /// <summary>A value unique to <paramref name="step"/>; a sixth of them large enough to be kept once.</summary>
    private static string Value(Random rng, string tag, int step)
        => rng.Next(6) == 0 ? $"{tag}{step}-" + new string((char)('k' + (step % 10)), MvccLayout.LargeValueMinBytes) : $"{tag}{step}";

    private static byte[] B(string s) => Encoding.UTF8.GetBytes(s);

    private static string S(ReadOnlyMemory<byte> b) => Encoding.UTF8.GetString(b.Span);
}
