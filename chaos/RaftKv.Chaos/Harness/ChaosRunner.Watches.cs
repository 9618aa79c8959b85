using System.Diagnostics;
using Google.Protobuf;
using Grpc.Core;
using Grpc.Net.Client;
using RaftKv.Chaos.Checker;
using RaftKv.Protocol.V1;

namespace RaftKv.Chaos.Harness;

public sealed partial class ChaosRunner
{
    /// <summary>
    /// The watch checker's end of run (every node up, faults healed): reads the final state of the workload's keys
    /// (linearizable), takes a reference watch from revision 1 on a healthy node up to the last write, waits for each
    /// pinned watcher to reach that revision (a watcher stuck on a stalled stream is nudged onto a fresh call), then
    /// checks every watcher with <see cref="WatchChecker"/>.
    /// </summary>
    /// <remarks>The watchers of members removed during the run (<c>retired</c>) must each equal the reference up to the
    /// last revision they received (nothing missed, invented or repeated before their node left).</remarks>
    private async Task<IReadOnlyList<string>> CheckWatchesAsync(List<ChaosNode> nodes, List<WatchObserver> observers, IReadOnlyList<WatchObserver> retired)
    {
        var problems = new List<string>();
        var final = await FinalStateAsync(nodes, DateTime.UtcNow.AddSeconds(60));
        if (final is null)
        {
            return ["watch check: the final state could not be read within 60 s"];
        }

        var (state, target) = final.Value;
        using var reference = new WatchObserver(nodes.First(n => n.Running), Workload.KeyPrefix);
        using (var referenceStop = new CancellationTokenSource())
        {
            var run = reference.RunAsync(referenceStop.Token);
            var reached = await ReachAsync(reference, target, TimeSpan.FromSeconds(60));
            await referenceStop.CancelAsync();
            await run;
            if (!reached)
            {
                return [$"watch check: the reference watch did not reach revision {target} within 60 s (at {reference.LastRevision})"];
            }
        }

        var referenceEvents = reference.Events.Where(e => e.Revision <= target).ToList();
        foreach (var o in observers)
        {
            if (!await ReachAsync(o, target, TimeSpan.FromSeconds(90)))
            {
                problems.Add($"{o.Name}: did not reach revision {target} within 90 s after healing (at {o.LastRevision}, {o.Resumes} resumes)");
            }

            if (o.CompactedAt is { } compacted)
            {
                problems.Add($"{o.Name}: told its start revision was compacted (compact revision {compacted})");
            }

            problems.AddRange(WatchChecker.Check(o.Name, o.Events.Where(e => e.Revision <= target).ToList(), referenceEvents, state));
        }

        foreach (var o in retired)
        {
            var upTo = o.LastRevision;
            problems.AddRange(WatchChecker.CheckPrefix(o.Name + " (member removed)", o.Events.ToList(), referenceEvents.Where(e => e.Revision <= upTo).ToList()));
        }

        log.WriteLine($"[seed {options.Seed}] watch check: {referenceEvents.Count} events up to revision {target}; "
            + string.Join(", ", observers.Select(o => $"{o.Name} {o.Events.Count} events, {o.Resumes} resumes"))
            + string.Concat(retired.Select(o => $", {o.Name} (removed) {o.Events.Count} events up to revision {o.LastRevision}"))
            + $"; {(problems.Count == 0 ? "every watcher saw every event once, in order" : problems.Count + " problems")}");
        return problems;
    }

    private static async Task<bool> ReachAsync(WatchObserver o, long target, TimeSpan timeout)
    {
        var deadline = Stopwatch.StartNew();
        var lastProgress = Stopwatch.StartNew();
        var last = o.LastRevision;
        while (o.LastRevision < target && o.CompactedAt is null)
        {
            if (deadline.Elapsed > timeout)
            {
                return false;
            }

            if (o.LastRevision != last)
            {
                last = o.LastRevision;
                lastProgress.Restart();
            }
            else if (lastProgress.Elapsed > TimeSpan.FromSeconds(10))
            {
                o.Nudge(); // a stream stalled by dropped packets: start a fresh call from the last revision
                lastProgress.Restart();
            }

            await Task.Delay(100);
        }

        return o.CompactedAt is null;
    }

    /// <summary>Key → value of the workload's keys and the revision of the last write among them (linearizable,
    /// asked of each node in turn until one answers).</summary>
    private static async Task<(Dictionary<string, string> State, long LastWrite)?> FinalStateAsync(List<ChaosNode> nodes, DateTime deadline)
    {
        for (var attempt = 0; DateTime.UtcNow < deadline; attempt++)
        {
            var node = nodes[attempt % nodes.Count];
            try
            {
                using var channel = GrpcChannel.ForAddress("http://" + node.Grpc);
                var r = await new KV.KVClient(channel).RangeAsync(
                    new RangeRequest { Start = ByteString.CopyFromUtf8(Workload.KeyPrefix), Prefix = true, Consistency = Consistency.Linearizable },
                    deadline: DateTime.UtcNow.AddSeconds(10));
                return (r.Kvs.ToDictionary(kv => kv.Key.ToStringUtf8(), kv => Workload.FromWire(kv.Value.ToStringUtf8()), StringComparer.Ordinal), r.Kvs.Count == 0 ? 0 : r.Kvs.Max(kv => (long)kv.ModRevision));
            }
            catch (RpcException)
            {
                await Task.Delay(200);
            }
        }

        return null;
    }
}
