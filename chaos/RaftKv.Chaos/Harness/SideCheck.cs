using System.Diagnostics;

namespace RaftKv.Chaos.Harness;

/// <summary>
/// What clients on each side of a cut saw. A success counts when the request was sent and answered
/// while the fault was in force (<see cref="FaultWindow.Covers"/>); a request answered after the heal
/// may rightly succeed. <see cref="MinorityAttempts"/> counts every request sent to the minority while
/// cut off (most time out after the heal), to show that side had clients.
/// <list type="bullet">
/// <item>Minority side of a partition: a write (put or compare-and-set) or a linearizable read that
/// succeeds there is a safety violation: the minority cannot commit, and a read barrier cannot be
/// confirmed without a majority. One exemption, for linearizable reads only: a read <em>sent</em> within
/// <see cref="LeaderLeaseWindow"/> after the cut took effect may be answered by a minority that holds the
/// leader, on the strength of its leader lease (the majority cannot elect a new leader before the lease
/// ends, so the read is still linearizable; the checker verifies it with the rest of the history). Such
/// reads are counted apart (<see cref="MinorityLeaseReadsOk"/>), never hidden. Writes have no exemption.
/// Serializable reads may succeed (stale by contract) and are only counted.</item>
/// <item>Leader hidden from clients (<see cref="FaultKind.ClientIsolateLeader"/>): requests sent to it
/// must not be answered (else the fault was not in force), and writes through the other nodes, which
/// forward to the leader over the peer network, should keep succeeding.</item>
/// </list>
/// </summary>
public sealed record SideCheck
{
    /// <summary>
    /// How long after a partition took effect a linearizable read sent to the minority may still be answered
    /// there legitimately. DotNext's leader lease is <c>LeaderLeaseDuration = LowerElectionTimeout /
    /// ClockDriftBound</c> (RaftCluster), renewed from the start of each replication round a majority
    /// confirmed; raftkv configures <c>LowerElectionTimeout</c> from <c>KvNodeOptions.ElectionTimeoutLower</c>
    /// (the server's ELECTION_TIMEOUT_MS, 1000 ms by default, not overridden by the chaos nodes) and leaves
    /// <c>ClockDriftBound</c> at its default 1, so the last round confirmed before the cut grants at most 1000 ms past it. Plus 50 ms for clock granularity:
    /// the window's start is read on the workers' clock after the rules were installed in every namespace,
    /// and the lease timer fires on the server's own clock and timer queue.
    /// RaftKv's own read lease (READ_LEASE, KvNode.ReadLease.cs) is shorter: 0.8 × the lower election timeout.
    /// <c>SideCheckTests.TheLeaseWindowCoversTheServersLeaderLease</c> fails if the server's timeout grows past it.
    /// </summary>
    public static readonly TimeSpan LeaderLeaseWindow = TimeSpan.FromMilliseconds(1000 + 50);

    /// <summary>
    /// How long after the leader is cut off into a minority the majority must have elected a new leader and
    /// committed a write: the longest election timeout (2 × ELECTION_TIMEOUT_MS = 2000 ms), plus a vote request to
    /// the cut-off leader timing out (request 500 ms + connect 250 ms, <c>KvNodeOptions.RequestTimeout</c>), plus
    /// 750 ms for a loaded machine's timers. Before the request timeout was below the election timeout the
    /// majority of seed 5's 3.8 s window stayed leaderless (0/4 writes); since, it answers from the first second
    /// (on an unloaded machine: see <see cref="LeaderlessMajorities"/>).
    /// </summary>
    public static readonly TimeSpan MajorityElectionAllowance = TimeSpan.FromMilliseconds(2000 + 500 + 250 + 750);

    /// <summary>Partitions that cut the leader off into a minority and lasted longer than
    /// <see cref="MajorityElectionAllowance"/> (each one must have given the majority a leader).</summary>
    public int LongLeaderCuts { get; init; }

    /// <summary>Of <see cref="LongLeaderCuts"/>: those in which clients sent writes to the majority and none of them
    /// committed within the window. Reported, not a problem: on a loaded machine the pinned clients can sit the whole
    /// window on one write a follower forwarded to the cut-off leader (it fails only at the forward's timeout), so no
    /// write shows that the majority did elect (seen in a full-suite run, 2026-12-04). With the old 1 s request
    /// timeout it was the majority that stayed leaderless (seed 5: 0 of 4 writes; 310 of 310 with the fix, unloaded).
    /// <para>Still not judged after the long runs of 2026-12-04 (chaos/README.md), which measured the election itself
    /// (<see cref="Elections"/>, <see cref="ElectionProbe"/>) on the 2-core machine shared with two other engineers'
    /// builds, benchmarks and E2E suites (load average 30–49): the other side was first seen with a leader 2144–2995 ms
    /// after the cut in 6 cuts of the leader, and never in 8 others (5 partitions of 2.5–4.0 s, 3 isolations) — one of
    /// them, long seed 10, a 3960 ms partition, longer than
    /// <see cref="MajorityElectionAllowance"/>, while nodes there took 8–45 s to start. Judging it would have failed that
    /// seed, and no allowance that such a machine respects leaves a judgeable window: faults last at most 4 s. Judge it
    /// (a long cut whose other side shows no leader) only with longer partition windows or on an unloaded machine.</para></summary>
    public int LeaderlessMajorities { get; init; }

    /// <summary>Partitions whose cut side held the leader (the other side had to elect; <see cref="ElectionProbe"/>).</summary>
    public int LeaderCuts { get; init; }

    /// <summary>Per <see cref="LeaderCuts"/> window, in order: how long after the cut the other side was first seen with
    /// a leader (ms; null when it was not before the window ended), and how long the window lasted (ms).</summary>
    public IReadOnlyList<(double? SeenMs, double WindowMs)> Elections { get; init; } = [];

    public int PartitionWindows { get; init; }
    public int MinorityAttempts { get; init; }
    public int MinorityWritesOk { get; init; }
    public int MinorityLinearizableReadsOk { get; init; }

    /// <summary>Linearizable reads the minority answered that were sent within <see cref="LeaderLeaseWindow"/> of the
    /// cut (exempt from <see cref="MinorityLinearizableReadsOk"/>; reported beside it).</summary>
    public int MinorityLeaseReadsOk { get; init; }
    public int MinoritySerializableReadsOk { get; init; }
    public int MajorityWritesOk { get; init; }
    public int ClientIsolationWindows { get; init; }
    public int HiddenLeaderOk { get; init; }
    public int OtherNodesWrites { get; init; }
    public int OtherNodesWritesOk { get; init; }

    public static SideCheck From(IReadOnlyList<FaultWindow> windows, IReadOnlyList<Attempt> attempts)
    {
        var partitions = windows.Where(w => w.Kind is FaultKind.PartitionMinority or FaultKind.PartitionLeaderMinority).ToList();
        var hidden = windows.Where(w => w.Kind == FaultKind.ClientIsolateLeader).ToList();
        var lease = (long)(LeaderLeaseWindow.TotalSeconds * Stopwatch.Frequency);
        bool InLease(Attempt a) => partitions.Any(w => w.Covers(a) && w.Cut.Contains(a.Node) && a.Invoke < w.Start + lease);
        var minority = attempts.Where(a => partitions.Any(w => w.Covers(a) && w.Cut.Contains(a.Node))).ToList();
        var sentToMinority = attempts.Count(a => partitions.Any(w => w.Sent(a) && w.Cut.Contains(a.Node)));
        var majority = attempts.Where(a => partitions.Any(w => w.Covers(a) && !w.Cut.Contains(a.Node))).ToList();
        var allowance = (long)(MajorityElectionAllowance.TotalSeconds * Stopwatch.Frequency);
        var longCuts = partitions.Where(w => w.Kind == FaultKind.PartitionLeaderMinority && w.End - w.Start > allowance).ToList();
        bool Leaderless(FaultWindow w)
        {
            var writes = attempts.Where(a => a.Kind == AttemptKind.Write && w.Sent(a) && !w.Cut.Contains(a.Node)).ToList();
            return writes.Count > 0 && !writes.Any(a => a.Ok && w.Covers(a));
        }

        var leaderCuts = partitions.Where(w => w.HeldLeader).ToList();
        double? Ms(long from, long? to) => to is { } t ? Stopwatch.GetElapsedTime(from, t).TotalMilliseconds : null;

        var toHidden = attempts.Where(a => hidden.Any(w => w.Covers(a) && w.Cut.Contains(a.Node))).ToList();
        var toOthers = attempts.Where(a => a.Kind == AttemptKind.Write && hidden.Any(w => w.Covers(a) && !w.Cut.Contains(a.Node))).ToList();
        return new SideCheck
        {
            PartitionWindows = partitions.Count,
            LongLeaderCuts = longCuts.Count,
            LeaderlessMajorities = longCuts.Count(Leaderless),
            LeaderCuts = leaderCuts.Count,
            Elections = leaderCuts.Select(w => (Ms(w.Start, w.OthersLeaderSeen), Ms(w.Start, w.End) ?? 0)).ToList(),
            MinorityAttempts = sentToMinority,
            MinorityWritesOk = minority.Count(a => a.Ok && a.Kind == AttemptKind.Write),
            MinorityLinearizableReadsOk = minority.Count(a => a.Ok && a.Kind == AttemptKind.LinearizableRead && !InLease(a)),
            MinorityLeaseReadsOk = minority.Count(a => a.Ok && a.Kind == AttemptKind.LinearizableRead && InLease(a)),
            MinoritySerializableReadsOk = minority.Count(a => a.Ok && a.Kind == AttemptKind.SerializableRead),
            MajorityWritesOk = majority.Count(a => a.Ok && a.Kind == AttemptKind.Write),
            ClientIsolationWindows = hidden.Count,
            HiddenLeaderOk = toHidden.Count(a => a.Ok),
            OtherNodesWrites = toOthers.Count,
            OtherNodesWritesOk = toOthers.Count(a => a.Ok),
        };
    }

    /// <summary>The broken promises, as report lines (empty = none).</summary>
    public IEnumerable<string> Problems()
    {
        if (MinorityWritesOk > 0)
        {
            yield return $"{MinorityWritesOk} write(s) succeeded on the minority side of a partition";
        }

        if (MinorityLinearizableReadsOk > 0)
        {
            yield return $"{MinorityLinearizableReadsOk} linearizable read(s) succeeded on the minority side of a partition";
        }

        if (HiddenLeaderOk > 0)
        {
            yield return $"{HiddenLeaderOk} request(s) to the leader succeeded while its client ports were dropped (the fault was not in force)";
        }

        if (OtherNodesWrites > 0 && OtherNodesWritesOk == 0)
        {
            yield return $"none of {OtherNodesWrites} write(s) through the other nodes succeeded while the leader was hidden from clients only";
        }
    }

    public override string ToString()
        => $"minority side ({PartitionWindows} partitions, {MinorityAttempts} requests sent): {MinorityWritesOk} writes ok, {MinorityLinearizableReadsOk} linearizable reads ok (+{MinorityLeaseReadsOk} sent within the leader lease, exempt), {MinoritySerializableReadsOk} serializable reads ok; majority side {MajorityWritesOk} writes ok, leaderless in {LeaderlessMajorities} of {LongLeaderCuts} long leader cuts; " +
           $"cuts of the leader: {LeaderCuts}, the other side's leader seen after (ms, of the window) {(Elections.Count == 0 ? "–" : string.Join(", ", Elections.Select(e => $"{(e.SeenMs is { } ms ? $"{ms:F0}" : "never")}/{e.WindowMs:F0}")))}; " +
           $"leader hidden from clients ({ClientIsolationWindows} times): {HiddenLeaderOk} answered by it, {OtherNodesWritesOk}/{OtherNodesWrites} writes via other nodes ok";
}
