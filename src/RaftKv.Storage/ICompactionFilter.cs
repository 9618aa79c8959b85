namespace RaftKv.Storage;

/// <summary>
/// A hook of one compaction run (<see cref="LsmOptions.CompactionFilterFactory"/> makes one per run): it
/// sees every entry the run would write, in key order, and may drop it. The engine knows nothing of
/// what the keys mean; the owner (the MVCC layer) uses it to remove obsolete history lazily.
/// </summary>
/// <remarks>Contract for the owner: dropping must never change what a read the owner still allows
/// returns, knowing that a run sees only its input tables (other versions of neighbouring keys may live
/// in tables outside the run). Called on the compaction task, one entry at a time.</remarks>
public interface ICompactionFilter
{
    /// <summary>Whether to drop the entry with <paramref name="key"/> from the run's output.</summary>
    bool Drop(ReadOnlySpan<byte> key, bool tombstone);
}
