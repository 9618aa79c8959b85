namespace RaftKv.Replication.Api;

/// <summary>The outcome of one corruption check run by the leader (<see cref="IKvNode.CheckCorruptionAsync"/>).</summary>
/// <param name="Index">The hash checkpoint's Raft index (0 when the check was skipped before proposing one).</param>
/// <param name="At">When the check finished (the checking node's clock).</param>
/// <param name="Outcome"><c>ok</c> (every answer agrees), <c>mismatch</c> (<see cref="Corrupt"/> names the
/// members), <c>incomplete</c> (the answers agree but some members did not answer), or <c>skipped</c>
/// (<see cref="Detail"/> says why, e.g. a member runs a release without the check).</param>
/// <param name="Hashes">Every answer, the leader's own included.</param>
/// <param name="Unanswered">Members that gave no hash (unreachable, restarted, or caught up by snapshot past the index).</param>
/// <param name="Corrupt">Members judged corrupt: their hash differs from a majority's, or their storage
/// reported corruption; when no majority agrees, every member that answered.</param>
/// <param name="Detail">A one-line explanation for operators.</param>
public sealed record CorruptionCheckResult(
    long Index,
    DateTimeOffset At,
    string Outcome,
    IReadOnlyList<StateHash> Hashes,
    IReadOnlyList<long> Unanswered,
    IReadOnlyList<long> Corrupt,
    string Detail)
{
    public const string Ok = "ok";
    public const string Mismatch = "mismatch";
    public const string Incomplete = "incomplete";
    public const string Skipped = "skipped";
}
