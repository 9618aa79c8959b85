namespace RaftKv.Replication.Commands;

/// <summary>
/// A value compare evaluated by the proposing leader before it proposed (applying never reads
/// values, which may be only in the object store): the key's version when it read the value and
/// the compare's outcome then. At apply, if the key's live version still equals
/// <see cref="Version"/>, the value is the one the leader read (a version names one write) and
/// <see cref="Holds"/> is the compare's outcome; otherwise the transaction fails as a conflict on
/// every replica alike (nothing but the clock is applied) and the leader re-resolves and proposes
/// again.
/// </summary>
/// <param name="Version">The key's version the leader saw (0 = the key was absent).</param>
/// <param name="Holds">The compare's outcome against the value the leader read.</param>
public sealed record ResolvedCompare(long Version, bool Holds);
