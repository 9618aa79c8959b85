namespace RaftKv.Replication.Api;

/// <summary>A committed log entry on the learner tail stream: the leader's index, term and bytes.</summary>
/// <param name="Index">The entry's index.</param>
/// <param name="Term">The entry's term.</param>
/// <param name="IsConfiguration">A DotNext configuration entry (kept as is, never applied as a command).</param>
/// <param name="Payload">The entry's bytes.</param>
public sealed record LearnerTailEntry(long Index, long Term, bool IsConfiguration, byte[] Payload);
