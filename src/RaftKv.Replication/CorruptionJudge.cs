using RaftKv.Replication.Api;

namespace RaftKv.Replication;

/// <summary>Compares the members' hashes of one hash checkpoint (pure; see docs/architecture.md,
/// "Corruption check").</summary>
internal static class CorruptionJudge
{
    /// <summary>
    /// The members judged corrupt, given every answer at one index and the number of voting members.
    /// A member whose storage reported corruption is corrupt. Among the hashes, if one is held by a
    /// strict majority of <paramref name="memberCount"/> it is the cluster's state and every member
    /// with another hash is corrupt; if hashes differ and none has a majority, every member that
    /// answered a hash is named (the check cannot tell which side is right).
    /// </summary>
    public static IReadOnlyList<long> Corrupt(IReadOnlyList<StateHash> answers, int memberCount)
    {
        var corrupt = answers.Where(a => a.Corruption is not null).Select(a => a.MemberId).ToHashSet();
        var groups = answers.Where(a => a.Hash is not null).GroupBy(a => a.Hash, StringComparer.Ordinal).ToList();
        if (groups.Count > 1)
        {
            var majority = groups.FirstOrDefault(g => g.Count() * 2 > memberCount);
            foreach (var g in groups.Where(g => g != majority))
            {
                corrupt.UnionWith(g.Select(a => a.MemberId));
            }

            if (majority is null)
            {
                corrupt.UnionWith(groups.SelectMany(g => g).Select(a => a.MemberId));
            }
        }

        return corrupt.Order().ToList();
    }
}
