using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;

namespace RaftKv.Chaos.Harness;

/// <summary>
/// The learner membership fault (<see cref="FaultKind.LearnerMembership"/>), by the operator procedures of
/// docs/operations.md ("Learners"), under the workload, through the HTTP member routes of running members
/// (forwarded to the leader), each step retried on 503 within <see cref="MembershipStepDeadline"/>:
/// <list type="number">
/// <item>grow by two (3 → 5), one learner at a time (etcd's limit of one learner): add it as a learner, start it
/// empty with <c>LEARNER=true</c> and PEERS = the voters and itself, promote it (refused with 503 until it has
/// caught up: retried); only then do the workers send to it;</item>
/// <item>remove two members (5 → 3) from a seeded position: a follower is taken out of the workers' list, removed
/// while running, then stopped (a planned decommission); the leader is killed first, then removed (a lost machine);</item>
/// <item>replace a seeded member whose disk was wiped: killed, removed, data directory deleted, added back as a
/// learner, started empty, promoted.</item>
/// </list>
/// While each learner joins (add → promoted), a probe writer puts keys outside the workload's range with client
/// retries: a write that still fails after <see cref="ProbeRetryBudget"/> is a problem of the seed (adding a learner
/// must not make writes unavailable), and so is a window with no acknowledged probe write.
/// </summary>
public sealed partial class ChaosRunner
{
    /// <summary>Node slots beyond <see cref="ChaosOptions.Nodes"/> the fault grows into.</summary>
    internal const int LearnerSpareSlots = 2;

    /// <summary>How long a probe write is retried (gRPC Put with a request id, so a retry is never applied twice).</summary>
    private static readonly TimeSpan ProbeRetryBudget = TimeSpan.FromSeconds(10);

    /// <summary>Watchers of members removed during the run (checked up to the last revision they received).</summary>
    private readonly List<WatchObserver> _retired = [];

    /// <summary>Starts a pinned watcher on a member that joined (set by <see cref="RunAsync"/>).</summary>
    private Action<ChaosNode>? _watch;

    /// <summary>Every watcher started, retired ones included.</summary>
    private readonly List<WatchObserver> _observers = [];

    /// <summary>Node ids with a live (not retired) watcher.</summary>
    private readonly HashSet<int> _watched = [];

    private async Task<string> LearnerMembershipAsync(Fault fault, List<ChaosNode> nodes, List<ChaosNode> all, NetworkLab lab, Workload workload)
    {
        var clock = Stopwatch.StartNew();
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(15) };
        var steps = new List<string>();
        var before = nodes.Count;
        try
        {
            foreach (var spare in all.Except(nodes).Take(LearnerSpareSlots).ToList())
            {
                steps.Add(await JoinAsLearnerAsync(spare, nodes, lab, http, workload));
            }

            var grown = nodes.Count;
            var ids = nodes.Select(n => n.Id).ToList();
            var start = (fault.Node - 1) % ids.Count;
            var liveLeader = fault.Node % 2 == 0; // seeded: a leader among the removed leaves while leading, or is killed first
            foreach (var v in Enumerable.Range(0, LearnerSpareSlots).Select(k => nodes.First(n => n.Id == ids[(start + k) % ids.Count])).ToList())
            {
                steps.Add(await RemoveAsync(v, nodes, http, workload, removeLiveLeader: liveLeader));
                Retire(v);
            }

            var replaced = nodes[fault.Node % nodes.Count];
            var wasLeader = await FindLeaderAsync(nodes) == replaced;
            await RemoveAsync(replaced, nodes, http, workload, killFirst: true);
            replaced.Wipe();
            steps.Add($"replace {replaced.Id}{(wasLeader ? " (leader)" : string.Empty)} with a wiped disk: killed, removed, wiped, {await JoinAsLearnerAsync(replaced, nodes, lab, http, workload)}");
            return $"learner membership: {before} → {grown} → {nodes.Count} members in {clock.Elapsed.TotalSeconds:F1} s: {string.Join("; ", steps)}";
        }
        catch (TimeoutException e)
        {
            foreach (var left in all.Except(nodes))
            {
                Retire(left); // a learner that was not promoted (or a member half removed) is no member: its watcher stops here
            }

            _faultProblems.Add($"learner membership fault did not finish: {e.Message}");
            return $"learner membership FAILED after {string.Join("; ", steps)}: {e.Message}";
        }
    }

    /// <summary>Adds <paramref name="node"/> as a learner, starts it empty, promotes it once caught up, then lets the
    /// workers and a watcher use it; a probe writer checks writes stay available meanwhile.</summary>
    private async Task<string> JoinAsLearnerAsync(ChaosNode node, List<ChaosNode> nodes, NetworkLab lab, HttpClient http, Workload workload)
    {
        node.Kill();
        node.Wipe(); // a slot that was a member before starts from an empty disk
        var raft = $"{lab.Address(node.Id)}:{ChaosNode.RaftPort}";
        // The window starts on a writable cluster, so that what it measures is the learner's effect, not the
        // aftermath of the previous fault (a restarted leader's election, a member still catching up).
        using var probeStop = new CancellationTokenSource();
        var (ready, _, _) = await ProbeWritesAsync(nodes.ToList(), node.Id, probeStop.Token, once: MembershipStepDeadline);
        if (ready == 0)
        {
            throw new TimeoutException($"no write succeeded within {MembershipStepDeadline.TotalSeconds:F0} s before learner {node.Id} was added");
        }

        var clock = Stopwatch.StartNew();
        var probe = ProbeWritesAsync(nodes.ToList(), node.Id, probeStop.Token);
        try
        {
            await UntilAsync(http, nodes, [], $"add learner {node.Id}", via => http.PostAsJsonAsync($"{via.Http}/cluster/members", new { raft_address = raft, learner = true }), (status, code) => status == HttpStatusCode.Conflict && code == "member_exists" ? true : null);
            node.Peers = string.Join(',', nodes.Append(node).Select(n => $"{n.Id}={lab.Address(n.Id)}:{ChaosNode.RaftPort}"));
            node.Learner = true;
            node.Start();
            await UntilListedAsync(http, nodes, node.Id, learner: true);
            var listed = clock.Elapsed;

            // 503 while it is catching up (etcd's "not in sync"), 404 until it connected and said its NODE_ID (before,
            // it is listed under a provisional id); 400 = already a voter (a retried promote that went through).
            await UntilAsync(http, nodes, [], $"promote learner {node.Id}", via => http.PostAsync($"{via.Http}/cluster/members/{node.Id}/promote", null), (status, _) => status switch
            {
                HttpStatusCode.NotFound => false,
                HttpStatusCode.BadRequest => true,
                _ => null,
            });
            await UntilListedAsync(http, nodes, node.Id, learner: false);
            nodes.Add(node);
            workload.Nodes = nodes;
            if (!_watched.Contains(node.Id))
            {
                _watch?.Invoke(node);
            }

            await probeStop.CancelAsync();
            var (ok, sent, failed) = await probe;
            if (failed > 0 || ok == 0)
            {
                _faultProblems.Add($"writes unavailable while learner {node.Id} joined: {failed} of {sent} probe writes failed after {ProbeRetryBudget.TotalSeconds:F0} s of client retries, {ok} acknowledged");
            }

            return $"+{node.Id} (learner listed after {listed.TotalSeconds:F1} s, promoted after {clock.Elapsed.TotalSeconds:F1} s; probe writes {ok}/{sent} acknowledged)";
        }
        finally
        {
            await probeStop.CancelAsync();
            await probe;
        }
    }

    /// <summary>Takes <paramref name="node"/> out of the workers' list and removes it: a running follower is removed,
    /// then stopped; the leader is killed first, or with <paramref name="removeLiveLeader"/> removed while it leads (the
    /// call, sent to another member, is forwarded to it: it removes itself, as etcd's <c>member remove</c> of the leader's
    /// id does), then stopped; with <paramref name="killFirst"/> any member is killed first.</summary>
    private static async Task<string> RemoveAsync(ChaosNode node, List<ChaosNode> nodes, HttpClient http, Workload workload, bool killFirst = false, bool removeLiveLeader = false)
    {
        nodes.Remove(node);
        workload.Nodes = nodes;
        var leader = await FindLeaderAsync([.. nodes, node]) == node;
        if (killFirst || (leader && !removeLiveLeader))
        {
            node.Kill();
        }

        await UntilAsync(http, nodes, [], $"remove member {node.Id}", via => http.DeleteAsync($"{via.Http}/cluster/members/{node.Id}"), (status, _) => status == HttpStatusCode.NotFound ? true : null);
        node.Kill();
        return killFirst ? $"-{node.Id}"
            : $"-{node.Id}{(!leader ? " (removed, then stopped)" : removeLiveLeader ? " (leader: removed while leading, then stopped)" : " (leader: killed, then removed)")}";
    }

    /// <summary>Stops the live watcher of a removed member; it is checked up to where it got.</summary>
    private void Retire(ChaosNode node)
    {
        _watched.Remove(node.Id);
        foreach (var o in _observers.Where(o => o.NodeId == node.Id && !_retired.Contains(o)).ToList())
        {
            o.Stop();
            _retired.Add(o);
        }
    }

    /// <summary>Puts <c>probe/…</c> keys (outside the workload's and the watchers' range) to the members in turn until
    /// stopped, each retried for up to <see cref="ProbeRetryBudget"/>; returns acknowledged, sent, failed. With
    /// <paramref name="once"/>: a single write, retried for that long.</summary>
    private static async Task<(int Ok, int Sent, int Failed)> ProbeWritesAsync(List<ChaosNode> members, int joining, CancellationToken stop, TimeSpan? once = null)
    {
        int ok = 0, sent = 0, failed = 0;
        var channels = members.Select(m => Grpc.Net.Client.GrpcChannel.ForAddress("http://" + m.Grpc)).ToList();
        try
        {
            while (!stop.IsCancellationRequested)
            {
                var request = new Protocol.V1.PutRequest
                {
                    Key = Google.Protobuf.ByteString.CopyFromUtf8(once is null ? $"probe/{joining}/{sent}" : $"probe/{joining}/before"),
                    Value = Google.Protobuf.ByteString.CopyFromUtf8("p"),
                    RequestId = Guid.NewGuid().ToString("N"),
                };
                sent++;
                var deadline = Stopwatch.StartNew();
                var done = false;
                for (var attempt = 0; !done && deadline.Elapsed < (once ?? ProbeRetryBudget); attempt++)
                {
                    try
                    {
                        await new Protocol.V1.KV.KVClient(channels[(sent + attempt) % channels.Count]).PutAsync(request, deadline: DateTime.UtcNow.AddSeconds(2), cancellationToken: CancellationToken.None);
                        done = true;
                    }
                    catch (Grpc.Core.RpcException)
                    {
                        await Task.Delay(200, CancellationToken.None);
                    }
                }

                (ok, failed) = done ? (ok + 1, failed) : (ok, failed + 1);
                if (once is not null)
                {
                    break;
                }

                try
                {
                    await Task.Delay(50, stop);
                }
                catch (OperationCanceledException)
                {
                }
            }
        }
        finally
        {
            channels.ForEach(c => c.Dispose());
        }

        return (ok, sent, failed);
    }
}
