using Google.Protobuf;
using Grpc.Net.Client;
using V3 = RaftKv.Protocol.Etcd;

namespace RaftKv.EndToEnd.Tests;

/// <summary>
/// <c>RAFTKV_ROUND_TRACE</c> (Replication/Diagnostics/RoundTrace.cs) on a real 3-process cluster: one etcd put at the
/// leader leaves, for its Raft index, every step of the round in the members' trace files — the request and the
/// leader's log, flush, commit and apply on the leader; the AppendEntries receive and fsync on the followers — in the
/// documented line format with timestamps in order. bench/round-trace.py depends on exactly this.
/// </summary>
public sealed class RoundTraceProcessTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("raftkv-roundtrace-").FullName;

    [Fact]
    public async Task APutLeavesEveryStepOfItsRoundInTheMembersTraces()
    {
        using var c = new LocalCluster(3, nodeEnv: id => new Dictionary<string, string> { ["RAFTKV_ROUND_TRACE"] = Path.Combine(_dir, $"n{id}") });
        c.StartAll();
        var leader = await c.WaitForLeaderAsync();
        await c.WaitReadyAsync();
        using var channel = GrpcChannel.ForAddress("http://" + leader.Grpc);
        var kv = new V3.KV.KVClient(channel);
        await kv.PutAsync(new V3.PutRequest { Key = ByteString.CopyFromUtf8("traced"), Value = ByteString.CopyFromUtf8("v") });
        var index = (await kv.RangeAsync(new V3.RangeRequest { Key = ByteString.CopyFromUtf8("traced") })).Kvs[0].ModRevision;
        Assert.True(index > 0);

        // The put's own Raft index is the one its Responded line names (its mod revision is not a Raft index).
        string[] exactly = ["Appended", "Applied", "Completed"]; // lines naming this index
        string[] reaching = ["ReadForReplication", "CommitRequested", "Committed"]; // lines naming an index at or above it
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (true)
        {
            var lines = Lines(leader.NodeId);
            var followers = c.Nodes.Where(n => n != leader).Select(n => Lines(n.NodeId)).ToList();
            if (lines.LastOrDefault(l => l.Point == "Responded") is { Index: var i } responded
                && lines.Any(l => l.Point == "Received")
                && exactly.All(p => lines.Any(l => l.Point == p && l.Index == i))
                && reaching.All(p => lines.Any(l => l.Point == p && l.Index >= i))
                && followers.All(f => f.Any(l => l.Point == "FollowerReceived" && l.Index <= i) && f.Any(l => l.Point == "FollowerDurable" && l.Index >= i)))
            {
                var appended = lines.Single(l => l.Point == "Appended" && l.Index == i);
                var applied = lines.First(l => l.Point == "Applied" && l.Index == i);
                Assert.True(appended.Timestamp < applied.Timestamp && applied.Timestamp <= responded.Timestamp, "timestamps in round order");
                return;
            }

            Assert.True(DateTime.UtcNow < deadline, $"trace of the put incomplete:\nleader {string.Join("; ", lines.TakeLast(20))}\n"
                + string.Join("\n", followers.Select(f => "follower " + string.Join("; ", f.TakeLast(10)))));
            await Task.Delay(Poll.Interval);
        }
    }

    public void Dispose()
    {
        try
        {
            Directory.Delete(_dir, recursive: true);
        }
        catch (IOException)
        {
            // a node still writing: the temp directory is left behind
        }
    }

    /// <summary>The node's trace lines (its file is PREFIX.PID; written every 500 ms).</summary>
    private List<TraceLine> Lines(long nodeId)
    {
        var lines = new List<TraceLine>();
        foreach (var file in Directory.GetFiles(_dir, $"n{nodeId}.*"))
        {
            using var reader = new StreamReader(new FileStream(file, FileMode.Open, FileAccess.Read, FileShare.ReadWrite));
            while (reader.ReadLine() is { } line)
            {
                var parts = line.Split(' ');
                if (parts.Length == 3 && long.TryParse(parts[1], out var index) && long.TryParse(parts[2], out var ts))
                {
                    lines.Add(new TraceLine(parts[0], index, ts));
                }
            }
        }

        return lines;
    }

    private sealed record TraceLine(string Point, long Index, long Timestamp);
}
