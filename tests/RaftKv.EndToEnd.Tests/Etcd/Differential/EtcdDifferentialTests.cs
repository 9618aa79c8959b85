using Grpc.Core;
using Xunit.Abstractions;
using V3 = RaftKv.Protocol.Etcd;

namespace RaftKv.EndToEnd.Tests.Etcd.Differential;

/// <summary>
/// Differential test against a real etcd 3.4: the same seeded random sequence of etcd API calls (every
/// Range/Put/DeleteRange/Txn option, compaction, leases, bad input, malformed protobuf) goes to etcd and to
/// RaftKv through etcd's generated gRPC client, and every answer must be the same after normalization
/// (<see cref="DiffSide.OutcomeAsync"/>: header ids and raft_term cleared; errors compared by status code
/// AND text). Seed: <c>RAFTKV_DIFF_SEED</c> (default random, printed); calls: <c>RAFTKV_DIFF_OPS</c> (default 400).
/// Known, documented differences (docs/api.md, "Differences from etcd") are not generated.
/// </summary>
public sealed class EtcdDifferentialTests(DiffFixture fixture, ITestOutputHelper output) : IClassFixture<DiffFixture>
{
    private static int Seed() => int.TryParse(Environment.GetEnvironmentVariable("RAFTKV_DIFF_SEED"), out var s) ? s : Random.Shared.Next();

    [Fact]
    public async Task KvLeaseAndBadInputAnswerAsEtcdDoes()
    {
        var seed = Seed();
        var count = int.TryParse(Environment.GetEnvironmentVariable("RAFTKV_DIFF_OPS"), out var n) ? n : 400;
        output.WriteLine($"RAFTKV_DIFF_SEED={seed} RAFTKV_DIFF_OPS={count}");
        var ops = new DiffOps(new Random(seed));
        var keepGoing = Environment.GetEnvironmentVariable("RAFTKV_DIFF_KEEP_GOING") == "1"; // report every divergence (later ones may follow from earlier ones)
        var divergences = new List<string>();
        await SyncRevisionAsync(ops, keepGoing);

        // Before any compaction (this class's fixture is its own): etcd's HashKV says compact_revision -1.
        var (hashText, hashKv) = HashKvCall(new V3.HashKVRequest());
        Assert.Equal(await hashKv(fixture.Etcd), await hashKv(fixture.RaftKv));
        Assert.Contains("\"compactRevision\": \"-1\"", await hashKv(fixture.Etcd), StringComparison.Ordinal);
        output.WriteLine($"{hashText}: {await hashKv(fixture.RaftKv)}");
        for (var step = 0; step < count; step++)
        {
            var (text, run) = Next(ops);
            var etcd = await run(fixture.Etcd);
            var raftkv = await run(fixture.RaftKv);
            if (etcd != raftkv)
            {
                divergences.Add($"RAFTKV_DIFF_SEED={seed}: call {step} diverged: {text}\n  etcd:   {etcd}\n  raftkv: {raftkv}");
                output.WriteLine(divergences[^1]);
                if (raftkv.StartsWith("ERROR Unavailable", StringComparison.Ordinal) || raftkv.StartsWith("ERROR Internal", StringComparison.Ordinal))
                {
                    output.WriteLine(fixture.Logs); // a server-side failure: its log says why
                }

                Assert.True(keepGoing, divergences[^1]);
            }

            await SyncRevisionAsync(ops, keepGoing);
        }

        Assert.Empty(divergences);
    }

    /// <summary>etcd lists a lease's keys from a Go map (random order): compared as a set.</summary>
    private static void SortKeys(Google.Protobuf.Collections.RepeatedField<Google.Protobuf.ByteString> keys)
    {
        var sorted = keys.OrderBy(k => k.ToBase64(), StringComparer.Ordinal).ToList();
        keys.Clear();
        keys.AddRange(sorted);
    }

    private async Task SyncRevisionAsync(DiffOps ops, bool keepGoing)
    {
        var etcd = await fixture.Etcd.Kv.RangeAsync(new V3.RangeRequest { Key = Google.Protobuf.ByteString.CopyFromUtf8("a"), Serializable = true });
        var raftkv = await fixture.RaftKv.Kv.RangeAsync(new V3.RangeRequest { Key = Google.Protobuf.ByteString.CopyFromUtf8("a"), Serializable = true });
        Assert.True(keepGoing || etcd.Header.Revision == raftkv.Header.Revision, $"revisions differ: etcd {etcd.Header.Revision}, raftkv {raftkv.Header.Revision}");
        ops.Revision = etcd.Header.Revision;
    }

    private static (string Text, Func<DiffSide, Task<string>> Run) Next(DiffOps ops)
    {
        var roll = ops.Roll(100);
        return roll switch
        {
            < 22 => Unary(ops.Put(), (s, r) => s.Kv.PutAsync(r, deadline: Deadline())),
            < 45 => Unary(ops.Range(), (s, r) => s.Kv.RangeAsync(r, deadline: Deadline())),
            < 53 => Unary(ops.Delete(), (s, r) => s.Kv.DeleteRangeAsync(r, deadline: Deadline())),
            < 70 => Unary(ops.Txn(), (s, r) => s.Kv.TxnAsync(r, deadline: Deadline())),
            < 73 => Unary(ops.Compact(), (s, r) => s.Kv.CompactAsync(r, deadline: Deadline()), compacted: r => ops.Compacted = Math.Max(ops.Compacted, r.Revision)),
            < 78 => Unary(ops.Grant(), (s, r) => s.Lease.LeaseGrantAsync(r, deadline: Deadline())),
            < 81 => Unary(new V3.LeaseRevokeRequest { ID = ops.LeaseId() }, (s, r) => s.Lease.LeaseRevokeAsync(r, deadline: Deadline())),
            < 85 => Unary(new V3.LeaseTimeToLiveRequest { ID = ops.LeaseId(), Keys = ops.Roll(2) == 0 }, (s, r) => s.Lease.LeaseTimeToLiveAsync(r, deadline: Deadline()), normalize: r => { r.TTL = r.TTL > 0 ? 1 : r.TTL; SortKeys(r.Keys); return r; }),
            < 87 => Unary(new V3.LeaseLeasesRequest(), (s, r) => s.Lease.LeaseLeasesAsync(r, deadline: Deadline()), normalize: r =>
            {
                var sorted = r.Leases.OrderBy(l => l.ID).ToList();
                r.Leases.Clear();
                r.Leases.AddRange(sorted);
                return r;
            }),
            < 90 => Unary(ops.BadTxn(), (s, r) => s.Kv.TxnAsync(r, deadline: Deadline())),
            < 92 => HashKvCall(ops.HashKv()),
            < 94 => ops.Roll(4) switch
            {
                0 => Unary(new V3.PutRequest { Value = Google.Protobuf.ByteString.CopyFromUtf8("v") }, (s, r) => s.Kv.PutAsync(r, deadline: Deadline())),
                1 => Unary(new V3.RangeRequest(), (s, r) => s.Kv.RangeAsync(r, deadline: Deadline())),
                2 => Unary(new V3.DeleteRangeRequest(), (s, r) => s.Kv.DeleteRangeAsync(r, deadline: Deadline())),
                _ => Unary(new V3.TxnRequest { Success = { new V3.RequestOp { RequestRange = new V3.RangeRequest() } } }, (s, r) => s.Kv.TxnAsync(r, deadline: Deadline())),
            },
            < 96 => ("malformed protobuf to KV.Range", s => s.RawAsync("etcdserverpb.KV", "Range", DiffOps.Malformed)),
            _ => ("malformed protobuf to KV.Put", s => s.RawAsync("etcdserverpb.KV", "Put", DiffOps.Malformed)),
        };
    }

    /// <summary>A HashKV compared without its hash (RaftKv's differs by nature, docs/api.md): compact_revision, the header's revision and errors.</summary>
    private static (string Text, Func<DiffSide, Task<string>> Run) HashKvCall(V3.HashKVRequest request)
        => Unary(request, (s, r) => s.Maintenance.HashKVAsync(r, deadline: Deadline()), normalize: r =>
        {
            r.Hash = 0;
            return r;
        });

    private static DateTime Deadline() => DateTime.UtcNow.AddSeconds(30);

    private static (string Text, Func<DiffSide, Task<string>> Run) Unary<TRequest, TResponse>(TRequest request, Func<DiffSide, TRequest, AsyncUnaryCall<TResponse>> call,
        Func<TResponse, TResponse>? normalize = null, Action<TRequest>? compacted = null)
        where TRequest : Google.Protobuf.IMessage<TRequest>
        where TResponse : Google.Protobuf.IMessage<TResponse>
    {
        async Task<string> RunAsync(DiffSide side)
        {
            var outcome = await DiffSide.OutcomeAsync(async () => await call(side, request), normalize);
            if (side.Name == "etcd" && compacted is not null && !outcome.StartsWith("ERROR", StringComparison.Ordinal))
            {
                compacted(request);
            }

            return outcome;
        }

        return (DiffOps.Text(request), RunAsync);
    }
}
