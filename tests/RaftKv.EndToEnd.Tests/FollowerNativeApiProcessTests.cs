using System.Runtime.CompilerServices;
using Google.Protobuf;
using Grpc.Core;
using Grpc.Net.Client;
using RaftKv.Client;
using RaftKv.Protocol.V1;
using Xunit.Abstractions;

namespace RaftKv.EndToEnd.Tests;

/// <summary>
/// Every native (raftkv.v1) RPC sent to a follower of three real processes is served there (reads,
/// watches, status, local admin) or forwarded to the leader by the pipeline (writes, membership changes,
/// the corruption check): a plain gRPC client that only knows the follower never sees FAILED_PRECONDITION
/// while the leader is stable, and the <see cref="RaftKvClient"/> stays on the follower (no redirect).
/// </summary>
public sealed class FollowerNativeApiProcessTests(ITestOutputHelper output)
{
    /// <summary>The trailer naming the leader on FAILED_PRECONDITION (docs/api.md).</summary>
    private const string LeaderTrailer = "raftkv-leader";

    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(90);

    private static ByteString B(string s) => ByteString.CopyFromUtf8(s);

    /// <summary>Regression: Cluster.AddMember, Cluster.RemoveMember and Cluster.CorruptionCheck were not in
    /// the forwarder's method list, so a follower refused them with FAILED_PRECONDITION (the HTTP routes
    /// and etcd's MemberAdd/MemberRemove forward).</summary>
    [Fact]
    public async Task EveryNativeRpcAtAFollowerIsServedOrForwarded()
    {
        var (c, leader, followers) = await StartThreeAsync();
        using var processes = c;
        var follower = followers[0];
        var victim = followers[1];
        using var channel = GrpcChannel.ForAddress("http://" + follower.Grpc);
        var kv = new KV.KVClient(channel);
        var cluster = new Cluster.ClusterClient(channel);
        var admin = new Admin.AdminClient(channel);

        // KV: a watch opened at the follower sees the writes sent to the follower.
        using var watchCts = new CancellationTokenSource(Deadline);
        using var watch = kv.Watch(new WatchRequest { Key = B("f/"), Prefix = true }, cancellationToken: watchCts.Token);
        var put = await kv.PutAsync(new PutRequest { Key = B("f/a"), Value = B("1") });
        Assert.True(put.Version > 0);
        Assert.True((await kv.GetAsync(new GetRequest { Key = B("f/a") })).Found); // linearizable
        await kv.GetAsync(new GetRequest { Key = B("f/a"), Consistency = Consistency.Serializable }); // may lag by contract
        Assert.Single((await kv.RangeAsync(new RangeRequest { Start = B("f/"), Prefix = true })).Kvs);
        var txn = await kv.TxnAsync(new TxnRequest
        {
            Compare = { new Compare { Key = B("f/a"), Target = Compare.Types.Target.Version, Op = Compare.Types.Op.Equal, Version = put.Version } },
            Success = { new TxnOp { Put = new PutRequest { Key = B("f/b"), Value = B("2") } } },
        });
        Assert.True(txn.Succeeded);
        var deleted = await kv.DeleteAsync(new DeleteRequest { Key = B("f/a") });
        Assert.Equal(1UL, deleted.Deleted);
        var seen = new List<WatchEvent>();
        while (seen.Count < 3 && await watch.ResponseStream.MoveNext(watchCts.Token))
        {
            seen.AddRange(watch.ResponseStream.Current.Events);
        }

        Assert.Equal(["f/a", "f/b", "f/a"], seen.Select(e => e.Kv.Key.ToStringUtf8()));
        Assert.Equal(WatchEvent.Types.EventType.Delete, seen[2].Type);

        // Cluster: status and members here; the corruption check is the leader's (forwarded).
        var status = await cluster.StatusAsync(new StatusRequest());
        Assert.Equal((ulong)follower.NodeId, status.NodeId);
        Assert.Equal((ulong)leader.NodeId, status.LeaderId);
        var members = await cluster.MembersAsync(new MembersRequest());
        Assert.Equal(3, members.Members.Count);
        AssertHeader(members.Header, follower, leader); // served here
        var check = await cluster.CorruptionCheckAsync(new CorruptionCheckRequest());
        Assert.NotEmpty(check.Outcome);
        AssertHeader(check.Header, leader, leader); // forwarded

        // Admin: this member's own flush, compaction and backup snapshot, each reply with its header.
        AssertHeader((await admin.FlushAsync(new FlushRequest())).Header, follower, leader);
        AssertHeader((await admin.CompactAsync(new CompactRequest())).Header, follower, leader);
        using (var snapshot = admin.Snapshot(new SnapshotSaveRequest()))
        {
            ulong sent = 0, total = 0;
            await foreach (var chunk in snapshot.ResponseStream.ReadAllAsync())
            {
                (sent, total) = (chunk.SentBytes, chunk.TotalBytes);
            }

            Assert.True(total > 0 && sent == total);
        }

        // Membership through the follower: remove the other follower, rebuild it empty, add it back
        // (docs/operations.md, "Rebuilding a node").
        var removed = await cluster.RemoveMemberAsync(new RemoveMemberRequest { Id = (ulong)victim.NodeId });
        AssertHeader(removed.Header, leader, leader); // served by the leader it was forwarded to
        await Eventually.TrueAsync(
            async () => (await cluster.MembersAsync(new MembersRequest())).Members.All(m => m.Id != (ulong)victim.NodeId),
            Deadline,
            "the follower lists the member as removed");
        await Eventually.TrueAsync(() => victim.ExitCode is not null, Deadline, "the removed member stops by itself, as etcd's");
        Assert.Equal(0, victim.ExitCode);
        Assert.Contains("has been permanently removed from the cluster", victim.Log(), StringComparison.Ordinal);
        Directory.Delete(victim.DataDir, recursive: true);
        victim.Start();
        AddMemberResponse? added = null;
        await Eventually.TrueAsync(
            async () =>
            {
                try
                {
                    added = await cluster.AddMemberAsync(new AddMemberRequest { Id = (ulong)victim.NodeId, RaftAddress = $"127.0.0.1:{victim.RaftPort}", GrpcAddress = victim.Grpc });
                    return true;
                }
                catch (RpcException e) when (e.StatusCode == StatusCode.Unavailable)
                {
                    return false; // the rebuilt node is not reachable yet: retried, as an operator would
                }
            },
            Deadline,
            "the rebuilt member is added through the follower");
        AssertHeader(added!.Header, leader, leader);
        Assert.True(added.Header.AppliedIndex > removed.Header.AppliedIndex, "the add's header includes the change");
        await Eventually.TrueAsync(
            async () => (await cluster.MembersAsync(new MembersRequest())).Members.Any(m => m.RaftAddress == $"127.0.0.1:{victim.RaftPort}"),
            Deadline,
            "the follower lists the re-added member");
    }

    /// <summary>Three real processes, started and ready, with their leader and its two followers.</summary>
    private static async Task<(LocalCluster Cluster, ServerProcess Leader, List<ServerProcess> Followers)> StartThreeAsync()
    {
        var c = new LocalCluster(3);
        try
        {
            c.StartAll();
            var leader = await c.WaitForLeaderAsync();
            await c.WaitReadyAsync();
            return (c, leader, c.Nodes.Where(n => n != leader).ToList());
        }
        catch
        {
            c.Dispose();
            throw;
        }
    }

    private static void AssertHeader(ResponseHeader? header, ServerProcess answeredBy, ServerProcess leader)
    {
        Assert.NotNull(header);
        Assert.Equal((ulong)answeredBy.NodeId, header.NodeId);
        Assert.Equal(leader.Grpc, header.Leader);
        Assert.True(header.Term > 0 && header.AppliedIndex > 0 && header.Revision > 0, header.ToString());
    }

    /// <summary>The client library sent to a follower first: every call succeeds and the client stays on
    /// the follower, because the follower forwards instead of refusing (a refusal would move it to the
    /// leader named in the trailer).</summary>
    [Fact]
    public async Task ClientPointedAtAFollowerIsServedWithoutRedirects()
    {
        var (c, leader, followers) = await StartThreeAsync();
        using var processes = c;
        var follower = followers[0];
        var victim = followers[1];
        using var client = new RaftKvClient([follower.Grpc]);

        var k = System.Text.Encoding.UTF8.GetBytes("cf/a");
        await client.PutAsync(k, [1]);
        Assert.NotNull(await client.GetAsync(k));
        Assert.True(await client.CompareAndSetAsync(k, [1], [2]));
        Assert.Single((await client.RangeAsync(System.Text.Encoding.UTF8.GetBytes("cf/"), prefix: true)).Kvs);
        await client.DeleteAsync(k);
        Assert.Equal(3, (await client.MembersAsync()).Members.Count);
        await client.FlushAsync();
        await client.CompactAsync();
        await client.RemoveMemberAsync((ulong)victim.NodeId);
        await Eventually.TrueAsync(async () => (await client.MembersAsync()).Members.Count == 2, Deadline, "two members are listed");
        Assert.Equal(follower.Grpc, client.CurrentEndpoint);
        await Eventually.TrueAsync(() => victim.ExitCode is not null, Deadline, "the removed member stops by itself");
        Assert.Equal(0, victim.ExitCode);
    }

    /// <summary>
    /// Regression: plain gRPC clients writing and reading through both followers while the leader is killed.
    /// The node being elected names itself leader a moment before it holds leadership; the router took that
    /// for a leader to forward to, hopped to itself and refused its own forwarded call, so clients got
    /// FAILED_PRECONDITION "not the leader; leader is node N" from node N itself (59 of ~400 writes in one
    /// run), each logged by Grpc.AspNetCore as "Error status code 'FailedPrecondition' … raised". Now such a
    /// call waits for the leadership, a hop to the dead leader that could not connect is sent to the new
    /// one, and refusals are not logged as errors.
    /// </summary>
    [Fact]
    public async Task FollowersDuringALeaderKillNeverNameThemselvesAsTheLeaderTheyRefuse()
    {
        var (c, leader, survivors) = await StartThreeAsync();
        using var processes = c;
        var channels = survivors.ToDictionary(n => n, n => GrpcChannel.ForAddress("http://" + n.Grpc));
        var outcomes = new System.Collections.Concurrent.ConcurrentDictionary<string, int>();
        var selfNamed = new System.Collections.Concurrent.ConcurrentBag<string>();
        var okAfter = survivors.ToDictionary(n => n, _ => new StrongBox<int>());
        var killed = 0;
        using var stop = new CancellationTokenSource();
        var n = 0;
        async Task Loop(ServerProcess node, bool write)
        {
            var kv = new KV.KVClient(channels[node]);
            while (!stop.IsCancellationRequested)
            {
                var i = Interlocked.Increment(ref n);
                var key = B("k/" + (i % 10));
                var kind = write ? "put" : "get";
                try
                {
                    if (write)
                    {
                        await kv.PutAsync(new PutRequest { Key = key, Value = B(i.ToString(System.Globalization.CultureInfo.InvariantCulture)) }, deadline: DateTime.UtcNow.AddSeconds(10));
                    }
                    else
                    {
                        await kv.GetAsync(new GetRequest { Key = key }, deadline: DateTime.UtcNow.AddSeconds(10));
                    }

                    outcomes.AddOrUpdate(kind + " OK", 1, (_, v) => v + 1);
                    if (Volatile.Read(ref killed) == 1)
                    {
                        Interlocked.Increment(ref okAfter[node].Value);
                    }
                }
                catch (RpcException e)
                {
                    var trailer = e.Trailers.GetValue(LeaderTrailer);
                    outcomes.AddOrUpdate($"{kind} {e.StatusCode} {e.Status.Detail}{(trailer is null ? string.Empty : " (trailer: leader " + (trailer == node.Grpc ? "= the answering node" : "elsewhere") + ")")}", 1, (_, v) => v + 1);
                    if (e.StatusCode == StatusCode.FailedPrecondition && trailer == node.Grpc)
                    {
                        selfNamed.Add($"node {node.NodeId}: {e.Status.Detail}");
                    }
                }
            }
        }

        var loops = survivors.SelectMany(s => new[] { Loop(s, true), Loop(s, true), Loop(s, false) }).ToList();
        await Eventually.TrueAsync(() => outcomes.GetValueOrDefault("put OK") >= 20, Deadline, "writes go through before the kill");
        leader.Kill();
        Volatile.Write(ref killed, 1);
        var next = await c.WaitForLeaderAsync();
        await Eventually.TrueAsync(() => okAfter.Values.All(v => Volatile.Read(ref v.Value) >= 20), Deadline, "both survivors serve calls again");
        await stop.CancelAsync();
        await Task.WhenAll(loops);
        foreach (var ch in channels.Values)
        {
            ch.Dispose();
        }

        output.WriteLine($"leader {leader.NodeId} killed, node {next.NodeId} elected");
        foreach (var (k, v) in outcomes.OrderBy(x => x.Key, StringComparer.Ordinal))
        {
            output.WriteLine($"{v,6} {k}");
        }

        Assert.Empty(selfNamed);
        foreach (var s in survivors)
        {
            var errorLines = s.Log().Split('\n').Where(l => l.Contains("Error status code", StringComparison.Ordinal)).ToList();
            Assert.True(errorLines.Count == 0, $"node {s.NodeId} logged refusals as errors:\n" + string.Join('\n', errorLines.Take(5)));
        }
    }
}
