using RaftKv.Chaos.History;

namespace RaftKv.Chaos.Checker;

/// <summary>
/// Porcupine-style (Wing–Gong with Lowe's memoization) linearizability checker for a register
/// with compare-and-set, partitioned by key. Failed operations are dropped (they did not happen);
/// unknown-outcome operations may take effect at any point after their invocation, or never.
/// A search that exceeds its budget counts as a failure (a check that cannot conclude proves nothing).
/// </summary>
public static class LinearizabilityChecker
{
    public const int DefaultBudget = 2_000_000;

    /// <summary>The value that stands for every unobserved value an unknown operation may have written.</summary>
    internal const string Unseen = "\u0001unseen";

    public static CheckResult Check(IEnumerable<Operation> history, int budget = DefaultBudget)
    {
        var all = history.ToList();
        var observed = all.Where(o => o.Status == OpStatus.Ok && o.Kind == OpKind.Read && o.Output is not null).Select(o => o.Output!)
            .Concat(all.Where(o => o.Kind == OpKind.Cas && o.Expected is not null).Select(o => o.Expected!))
            .ToHashSet(StringComparer.Ordinal);

        // Unknown-outcome writes whose value nobody ever observed are dropped — unless a failed CAS
        // on the key came after them (an unseen write may be what made it fail). Treating them as
        // "never happened" is otherwise always allowed for an unknown outcome and keeps the search small.
        var failedCas = all.Where(o => o.Kind == OpKind.Cas && o.Status == OpStatus.Ok && o.Output == "false")
            .GroupBy(o => o.Key, StringComparer.Ordinal)
            .ToDictionary(g => g.Key, g => g.Max(o => o.Return), StringComparer.Ordinal);
        bool Relevant(Operation o)
            => o.Status != OpStatus.Unknown
               || (o.Value is not null && observed.Contains(o.Value))
               || (failedCas.TryGetValue(o.Key, out var last) && last > o.Invoke);
        var byKey = all.Where(o => o.Status != OpStatus.Fail && !(o.Kind == OpKind.Read && o.Status == OpStatus.Unknown))
            .Where(Relevant)
            .GroupBy(o => o.Key, StringComparer.Ordinal)
            .OrderBy(g => g.Key, StringComparer.Ordinal)
            .ToList();
        var total = 0;
        foreach (var group in byKey)
        {
            var ops = group.ToList();
            total += ops.Count;
            // Three searches, each sound, from cheapest to complete:
            // 1. "Never took effect" is always a legal outcome of an unknown operation, so a linearization
            //    of the completed operations alone is a linearization of the whole history.
            // 2. Values are unique, so an unknown operation whose value a completed operation observed
            //    (a read returned it, a successful CAS expected it) took effect before that observer
            //    returned: bound it there, and leave out the unknown operations nobody observed.
            // 3. Add back the unobserved unknown operations (they can still explain a failed CAS), with
            //    their values replaced by one "unseen" value: nobody can tell them apart, so any pending
            //    unseen write is as good as another and the search tries only the earliest.
            var known = ops.Where(o => o.Status != OpStatus.Unknown).ToList();
            var bounded = BoundObservedUnknowns(ops);
            var observedUnknowns = bounded.Where(o => o.Bounded).Select(o => o.Id).ToHashSet();
            var reduced = bounded.Concat(ops.Where(o => o.Status == OpStatus.Unknown && !observedUnknowns.Contains(o.Id)).Select(o => o with { Value = Unseen })).ToList();
            var verdict = known.Count < ops.Count && CheckKey(known, budget) == Verdict.Linearizable
                ? Verdict.Linearizable
                : bounded.Count < ops.Count && CheckKey(bounded, budget) == Verdict.Linearizable
                    ? Verdict.Linearizable
                    : CheckKey(reduced, budget);
            if (verdict != Verdict.Linearizable)
            {
                var minimal = verdict == Verdict.Violation ? Shrink(reduced, budget) : reduced;
                var why = verdict == Verdict.Violation ? "not linearizable" : $"search budget of {budget} states exhausted";
                return new CheckResult(false, group.Key, minimal, $"key '{group.Key}': {why}; minimal failing sub-history has {minimal.Count} operations");
            }
        }

        return CheckResult.Ok(byKey.Count, total);
    }

    internal enum Verdict
    {
        Linearizable,
        Violation,
        BudgetExhausted,
    }

    /// <summary>
    /// Completed operations plus the unknown ones whose written value a completed operation observed —
    /// a read that returned it, or a successful CAS that expected it — each given the earliest such
    /// observer's return time as its latest possible linearization point.
    /// </summary>
    internal static List<Operation> BoundObservedUnknowns(IReadOnlyList<Operation> ops)
    {
        var observers = ops.Where(o => o.Status == OpStatus.Ok && o.Kind == OpKind.Read && o.Output is not null).Select(o => (Value: o.Output!, o.Return))
            .Concat(ops.Where(o => o.Status == OpStatus.Ok && o.Kind == OpKind.Cas && o.Output == "true" && o.Expected is not null).Select(o => (Value: o.Expected!, o.Return)));
        var firstSeen = observers
            .GroupBy(o => o.Value, StringComparer.Ordinal)
            .ToDictionary(g => g.Key, g => g.Min(o => o.Return), StringComparer.Ordinal);
        var result = new List<Operation>(ops.Count);
        foreach (var o in ops)
        {
            if (o.Status != OpStatus.Unknown)
            {
                result.Add(o);
            }
            else if (o.Value is not null && firstSeen.TryGetValue(o.Value, out var seenBy))
            {
                result.Add(o with { Return = seenBy, Bounded = true });
            }
        }

        return result;
    }

    internal static Verdict CheckKey(IReadOnlyList<Operation> ops, int budget)
    {
        var n = ops.Count;
        var ordered = ops.OrderBy(o => o.Invoke).ToArray();
        var returns = ordered.Select(o => o.Status == OpStatus.Unknown && !o.Bounded ? long.MaxValue : o.Return).ToArray();
        var required = ordered.Count(o => o.Status == OpStatus.Ok);
        var done = new bool[n];

        // Candidates in exploration order: completed operations first, unknown outcomes last. The search
        // is exhaustive either way (soundness is unchanged); trying known operations first finds a
        // linearization far sooner when many timed-out writes overlap the tail of the history.
        var candidates = Enumerable.Range(0, n).OrderBy(i => ordered[i].Status == OpStatus.Unknown ? 1 : 0).ThenBy(i => ordered[i].Invoke).ToArray();
        var memo = new HashSet<(string Bits, string? State)>();
        var visited = 0;

        bool Search(string? state, int linearizedRequired)
        {
            if (linearizedRequired == required)
            {
                return true;
            }

            if (++visited > budget)
            {
                throw new BudgetExceededException();
            }

            var key = (Bits(done), state);
            if (!memo.Add(key))
            {
                return false;
            }

            // Earliest return among pending operations: nothing invoked after it can go first.
            var minReturn = long.MaxValue;
            for (var i = 0; i < n; i++)
            {
                if (!done[i])
                {
                    minReturn = Math.Min(minReturn, returns[i]);
                }
            }

            var unseenWriteTried = false;
            foreach (var i in candidates)
            {
                if (done[i] || ordered[i].Invoke > minReturn)
                {
                    continue;
                }

                if (ordered[i] is { Status: OpStatus.Unknown, Kind: OpKind.Write, Value: Unseen })
                {
                    // Interchangeable: all pending ones are already invoked and write the same value.
                    if (unseenWriteTried)
                    {
                        continue;
                    }

                    unseenWriteTried = true;
                }

                if (Step(ordered[i], state, out var next))
                {
                    done[i] = true;
                    if (Search(next, linearizedRequired + (ordered[i].Status == OpStatus.Ok ? 1 : 0)))
                    {
                        return true;
                    }

                    done[i] = false;
                }
            }

            return false;
        }

        try
        {
            return Search(null, 0) ? Verdict.Linearizable : Verdict.Violation;
        }
        catch (BudgetExceededException)
        {
            return Verdict.BudgetExhausted;
        }
    }

    private static string Bits(bool[] done)
    {
        var chars = new char[(done.Length + 15) / 16];
        for (var i = 0; i < done.Length; i++)
        {
            if (done[i])
            {
                chars[i / 16] |= (char)(1 << (i % 16));
            }
        }

        return new string(chars);
    }

    /// <summary>The register model: is <paramref name="op"/> legal in <paramref name="state"/>, and the state after it.</summary>
    internal static bool Step(Operation op, string? state, out string? next)
    {
        next = state;
        switch (op.Kind)
        {
            case OpKind.Read:
                return op.Output == state;
            case OpKind.Write:
                next = op.Value;
                return true;
            default:
                var matches = state == op.Expected;
                if (op.Status == OpStatus.Unknown)
                {
                    // An unknown CAS that failed changed nothing and returned nothing: the same as one that
                    // never took effect, which the search covers by not applying it. Only a success is a step.
                    next = op.Value;
                    return matches;
                }

                var succeeded = op.Output == "true";
                if (succeeded != matches)
                {
                    return false;
                }

                next = succeeded ? op.Value : state;
                return true;
        }
    }

    /// <summary>
    /// Shrinks a violation soundly: only observations (reads and failed CAS) are removed — removing
    /// a constraint cannot create a violation — while writes stay. Then writes that a later completed
    /// write definitely overwrote before the first remaining observation are dropped from the
    /// report (they cannot explain it).
    /// </summary>
    internal static List<Operation> Shrink(List<Operation> ops, int budget)
    {
        static bool Observation(Operation o) => o.Kind == OpKind.Read || (o.Kind == OpKind.Cas && o.Status == OpStatus.Ok && o.Output == "false");
        var current = ops;
        var changed = true;
        while (changed)
        {
            changed = false;
            foreach (var op in current.Where(Observation).OrderByDescending(o => o.Invoke).ToList())
            {
                var candidate = current.Where(o => o != op).ToList();
                if (CheckKey(candidate, budget) == Verdict.Violation)
                {
                    current = candidate;
                    changed = true;
                }
            }
        }

        var firstObservation = current.Where(Observation).Select(o => o.Invoke).DefaultIfEmpty(long.MaxValue).Min();
        var writes = current.Where(o => !Observation(o) && o.Status == OpStatus.Ok).ToList();
        return current.Where(o => Observation(o) || !writes.Any(b => b != o && b.Invoke > o.Return && b.Return < firstObservation)).ToList();
    }

    private sealed class BudgetExceededException : Exception;
}
