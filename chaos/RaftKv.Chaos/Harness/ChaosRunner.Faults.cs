using System.Diagnostics;

namespace RaftKv.Chaos.Harness;

/// <summary>Fault injection: one scheduled fault at a time, healed before the next.</summary>
public sealed partial class ChaosRunner
{
    private string? _windowSummary;

    /// <summary>Injects one fault and heals it; <c>nodes</c> are the current members (membership faults change the
    /// list), <c>all</c> every node slot, members or not (spares a membership fault may grow into).</summary>
    private async Task<string> InjectAsync(Fault fault, List<ChaosNode> nodes, List<ChaosNode> all, NetworkLab lab, Workload workload)
    {
        var began = DateTime.UtcNow; // logged, to line the fault up with the node logs' times
        var leader = await FindLeaderAsync(nodes);
        var target = nodes[(fault.Node - 1) % nodes.Count]; // a failed membership fault may leave fewer members
        var ids = nodes.Select(n => n.Id).ToList();
        string what;
        switch (fault.Kind)
        {
            case FaultKind.KillOne:
                target.Kill();
                what = $"SIGKILL node {target.Id}";
                await Task.Delay(fault.Duration);
                target.Start();
                break;
            case FaultKind.KillLeader:
                target = leader ?? target;
                target.Kill();
                what = $"SIGKILL leader (node {target.Id})";
                await Task.Delay(fault.Duration);
                target.Start();
                break;
            case FaultKind.KillMajority:
                var victims = nodes.Where(n => n != target).Take((nodes.Count / 2) + 1).ToList();
                victims.ForEach(n => n.Kill());
                what = $"SIGKILL majority (nodes {string.Join(',', victims.Select(v => v.Id))})";
                await Task.Delay(fault.Duration);
                victims.ForEach(n => n.Start());
                break;
            case FaultKind.PauseOne:
                target.Pause();
                what = $"SIGSTOP node {target.Id}";
                await Task.Delay(fault.Duration);
                target.Resume();
                break;
            case FaultKind.IsolateOne:
            case FaultKind.IsolateLeader:
                target = fault.Kind == FaultKind.IsolateLeader ? leader ?? target : target;
                lab.IsolateRaft(target.Id, ChaosNode.RaftPort);
                what = $"isolate node {target.Id}{(fault.Kind == FaultKind.IsolateLeader ? " (leader)" : string.Empty)}";
                if (target == leader)
                {
                    // Measured, not judged (a number for SideCheck.MajorityElectionAllowance): the others elect.
                    var start = Stopwatch.GetTimestamp();
                    using var inForce = new CancellationTokenSource(fault.Duration);
                    var seen = await ElectionProbe.FirstLeaderAsync(nodes.Where(n => n != target).ToList(), inForce.Token);
                    _windowSummary = $"the others' leader seen {(seen is { } at ? $"after {Stopwatch.GetElapsedTime(start, at).TotalMilliseconds:F0} ms" : "never")}";
                    await Task.Delay(fault.Duration - Stopwatch.GetElapsedTime(start) is { Ticks: > 0 } rest ? rest : TimeSpan.Zero);
                }
                else
                {
                    await Task.Delay(fault.Duration);
                }

                lab.Heal(target.Id);
                break;
            case FaultKind.PacketLoss:
                lab.Lossy(target.Id, 0.3);
                what = $"30% packet loss on node {target.Id}";
                await Task.Delay(fault.Duration);
                lab.Heal(target.Id);
                break;
            case FaultKind.PartitionMinority:
            case FaultKind.PartitionLeaderMinority:
                {
                    var minority = Minority(fault, ids, fault.Kind == FaultKind.PartitionLeaderMinority ? leader?.Id : null);
                    var majority = ids.Except(minority).ToList();
                    what = $"partition minority {{{string.Join(',', minority)}}}{(leader is not null && minority.Contains(leader.Id) ? $" (holds leader {leader.Id})" : string.Empty)} vs majority {{{string.Join(',', majority)}}}, clients pinned on both sides";
                    var electing = leader is not null && minority.Contains(leader.Id) ? nodes.Where(n => majority.Contains(n.Id)).ToList() : null;
                    await InForceAsync(fault, minority, workload, () => lab.Partition(minority, majority), ids, lab, electing);
                    break;
                }

            case FaultKind.OneWayFromLeader:
            case FaultKind.OneWayToLeader:
                {
                    target = leader ?? target;
                    var followers = ids.Where(i => i != target.Id).ToList();
                    var outgoing = fault.Kind == FaultKind.OneWayFromLeader;
                    what = outgoing
                        ? $"one-way: packets leader {target.Id} → followers dropped, followers → leader flow"
                        : $"one-way: packets followers → leader {target.Id} dropped, leader → followers flow";
                    await InForceAsync(fault, [target.Id], workload, () =>
                    {
                        if (outgoing)
                        {
                            lab.DropTo(target.Id, followers);
                        }
                        else
                        {
                            lab.DropFrom(target.Id, followers);
                        }
                    }, ids, lab);
                    break;
                }

            case FaultKind.FlappingLink:
                {
                    what = $"flapping link of node {target.Id}: cut/healed every {fault.Period.TotalMilliseconds:F0} ms";
                    var until = Stopwatch.GetTimestamp() + (long)(fault.Duration.TotalSeconds * Stopwatch.Frequency);
                    var half = fault.Period / 2;
                    while (Stopwatch.GetTimestamp() < until)
                    {
                        lab.CutLink(target.Id);
                        await Task.Delay(half);
                        lab.Heal(target.Id);
                        await Task.Delay(half);
                    }

                    break;
                }

            case FaultKind.ClientIsolateLeader:
                // Judged on the writes through the other members: they must know the leader when the fault starts.
                target = await WaitForAgreedLeaderAsync(nodes, TimeSpan.FromSeconds(30)) ?? leader ?? target;
                what = $"leader {target.Id} hidden from clients (client packets to ports {ChaosNode.GrpcPort},{ChaosNode.HttpPort} dropped; peers and forwarding unaffected), clients pinned";
                await InForceAsync(fault, [target.Id], workload, () => lab.DropClients(target.Id, ChaosNode.GrpcPort, ChaosNode.HttpPort), ids, lab);
                break;
            case FaultKind.ReplaceMembers:
                what = await ReplaceMembersAsync(fault, nodes, lab, workload);
                break;
            case FaultKind.LearnerMembership:
                what = await LearnerMembershipAsync(fault, nodes, all, lab, workload);
                break;
            case FaultKind.MoveLeader:
                {
                    var to = target == leader ? nodes[fault.Node % nodes.Count] : target;
                    var via = leader ?? nodes.First(n => n.Running && !n.Paused);
                    what = $"move leadership to node {to.Id} ({await MoveLeaderAsync(via, to.Id)})";
                    await Task.Delay(fault.Duration);
                    break;
                }

            default:
                target.Kill();
                target.Start("+90s");
                what = $"restart node {target.Id} with its clock 90 s ahead (libfaketime)";
                await Task.Delay(fault.Duration);
                target.Kill();
                target.Start();
                break;
        }

        log.WriteLine(fault.Kind is FaultKind.ReplaceMembers or FaultKind.LearnerMembership ? $"[seed {options.Seed}] fault: {what} ({began:HH:mm:ss.fff}–{DateTime.UtcNow:HH:mm:ss.fff})" : $"[seed {options.Seed}] fault: {what} for {fault.Duration.TotalSeconds:F1}s ({began:HH:mm:ss.fff}–{DateTime.UtcNow:HH:mm:ss.fff})");
        if (_windowSummary is not null)
        {
            log.WriteLine($"[seed {options.Seed}]   {_windowSummary}");
            _windowSummary = null;
        }

        return what;
    }

    /// <summary>Asks <paramref name="via"/> (forwarded to the leader) to hand leadership to <paramref name="to"/>; returns the outcome for the log.</summary>
    private static async Task<string> MoveLeaderAsync(ChaosNode via, int to)
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(15) };
        try
        {
            using var r = await http.PostAsync($"{via.Http}/admin/move-leader?target={to}", null);
            return r.IsSuccessStatusCode ? "done" : $"refused: {(int)r.StatusCode} {await r.Content.ReadAsStringAsync()}";
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
        {
            return "no answer: " + e.Message;
        }
    }

    /// <summary>
    /// Pins the workers if the fault asks for it, installs the rules, records the window in which they
    /// were in force (on the workers' clock), then heals every node and unpins. <paramref name="electing"/>: the nodes
    /// of the other side when the cut side holds the leader; an <see cref="ElectionProbe"/> then records when one of
    /// them was first seen as leader.
    /// </summary>
    private async Task InForceAsync(Fault fault, IReadOnlyList<int> cut, Workload workload, Action install, IReadOnlyList<int> ids, NetworkLab lab, IReadOnlyList<ChaosNode>? electing = null)
    {
        workload.Pinned = fault.PinsWorkers;
        try
        {
            install();
            var start = Stopwatch.GetTimestamp();
            using var inForce = new CancellationTokenSource(fault.Duration);
            var probe = electing is null ? Task.FromResult<long?>(null) : ElectionProbe.FirstLeaderAsync(electing, inForce.Token);
            await Task.Delay(fault.Duration);
            var end = Stopwatch.GetTimestamp();
            inForce.Cancel();
            var window = new FaultWindow(fault.Kind, cut, start, end) { HeldLeader = electing is not null, OthersLeaderSeen = await probe is { } seen && seen <= end ? seen : null };
            _windows.Add(window);
            var inWindow = workload.Attempts.Where(window.Sent).GroupBy(a => a.Node).OrderBy(g => g.Key);
            _windowSummary = $"requests sent within the window, per node (answered ok within it / sent): {string.Join(", ", inWindow.Select(g => $"n{g.Key}{(cut.Contains(g.Key) ? "*" : string.Empty)} {g.Count(a => a.Ok && window.Covers(a))}/{g.Count()}{Errors(g)}"))} (* = cut side)" +
                (window.HeldLeader ? $"; the other side's leader seen {(window.OthersLeaderSeen is { } at ? $"after {Stopwatch.GetElapsedTime(start, at).TotalMilliseconds:F0} ms" : $"never in {Stopwatch.GetElapsedTime(start, end).TotalMilliseconds:F0} ms")}" : string.Empty);
        }
        finally
        {
            foreach (var i in ids)
            {
                lab.Heal(i);
            }

            workload.Pinned = false;
        }
    }

    /// <summary>The failed requests' status codes, e.g. " [Unavailable×20, DeadlineExceeded×2]" (empty if none failed).</summary>
    private static string Errors(IEnumerable<Attempt> attempts)
    {
        var codes = attempts.Where(a => a.Error is not null).GroupBy(a => a.Error).OrderByDescending(g => g.Count()).Select(g => $"{g.Key}×{g.Count()}").ToList();
        return codes.Count == 0 ? string.Empty : $" [{string.Join(", ", codes)}]";
    }

    /// <summary>
    /// The minority of a partition: (n-1)/2 nodes (1 of 3, 2 of 5), starting with <paramref name="leader"/>
    /// when given, else with the fault's node, then the next ids in turn.
    /// </summary>
    internal static List<int> Minority(Fault fault, List<int> ids, int? leader)
    {
        var size = (ids.Count - 1) / 2;
        var first = leader ?? fault.Node;
        return Enumerable.Range(0, size).Select(k => ids[(ids.IndexOf(first) + k) % ids.Count]).ToList();
    }
}
