namespace RaftKv.Chaos.Checker;

/// <summary>
/// The watch checker: a watcher that started at revision 1 (the store's first) must have received every committed
/// change of its range exactly once, in revision order, whatever faults its node went through. Checked against a
/// reference (a fresh watch from revision 1 on the healed cluster, read from the history) and against the final state
/// (a linearizable range read): replaying the reference must give exactly that state, so the reference is itself
/// checked, and a watcher equal to it is complete.
/// </summary>
public static class WatchChecker
{
    /// <summary>Problems found in <paramref name="observed"/> (empty = it passed). <paramref name="finalState"/>: key → value
    /// of every key of the range after the run.</summary>
    public static IReadOnlyList<string> Check(string watcher, IReadOnlyList<WatchedEvent> observed, IReadOnlyList<WatchedEvent> reference, IReadOnlyDictionary<string, string> finalState)
    {
        var problems = new List<string>();
        var replay = Replay(reference);
        var stateDiff = replay.Keys.Union(finalState.Keys).Order(StringComparer.Ordinal)
            .Where(k => replay.GetValueOrDefault(k) != finalState.GetValueOrDefault(k)).ToList();
        if (stateDiff.Count > 0)
        {
            var k = stateDiff[0];
            problems.Add($"reference watch does not replay to the final state: {stateDiff.Count} keys differ, e.g. {k}: replayed {replay.GetValueOrDefault(k) ?? "(none)"}, final {finalState.GetValueOrDefault(k) ?? "(none)"}");
        }

        for (var i = 1; i < observed.Count; i++)
        {
            if (observed[i].Revision < observed[i - 1].Revision || (observed[i].Revision == observed[i - 1].Revision && observed[i].Key == observed[i - 1].Key))
            {
                problems.Add($"{watcher}: out of order or repeated at position {i}: {observed[i - 1]} then {observed[i]}");
                break;
            }
        }

        var seen = observed.ToHashSet();
        var expected = reference.ToHashSet();
        var missing = reference.Where(e => !seen.Contains(e)).ToList();
        var extra = observed.Where(e => !expected.Contains(e)).Distinct().ToList();
        var repeated = observed.Count - observed.Distinct().Count();
        if (missing.Count > 0)
        {
            problems.Add($"{watcher}: missed {missing.Count} of {reference.Count} events, first {missing[0]}");
        }

        if (extra.Count > 0)
        {
            problems.Add($"{watcher}: {extra.Count} events that the history does not have, first {extra[0]}");
        }

        if (repeated > 0)
        {
            problems.Add($"{watcher}: {repeated} events delivered more than once");
        }

        return problems;
    }

    /// <summary>A watcher that stopped early (its member was removed): <paramref name="referencePrefix"/> is the reference
    /// up to the last revision it received, and it must hold exactly those events, once each, in order.</summary>
    public static IReadOnlyList<string> CheckPrefix(string watcher, IReadOnlyList<WatchedEvent> observed, IReadOnlyList<WatchedEvent> referencePrefix)
        => Check(watcher, observed, referencePrefix, Replay(referencePrefix));

    private static Dictionary<string, string> Replay(IEnumerable<WatchedEvent> events)
    {
        var replay = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var e in events)
        {
            if (e.Delete)
            {
                replay.Remove(e.Key);
            }
            else
            {
                replay[e.Key] = e.Value;
            }
        }

        return replay;
    }
}
