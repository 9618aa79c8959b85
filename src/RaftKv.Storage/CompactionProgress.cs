namespace RaftKv.Storage;

/// <summary>
/// Progress of a full (manual) compaction, <see cref="LsmStore.CompactAsync(long, IProgress{CompactionProgress}?, CancellationToken)"/>:
/// it pushes the tree down one level at a time (L0 into L1, then each level into the next), and each push is one
/// step. <see cref="StepsTotal"/> and <see cref="BytesTotal"/> are planned from the level shape when the
/// compaction starts (after its flush); background work can change the shape meanwhile, so they are raised
/// whenever the work done passes them, and equal the work done once it finishes.
/// </summary>
/// <param name="Running">False once the compaction returned (done, failed or cancelled).</param>
/// <param name="StepsDone">Level pushes finished.</param>
/// <param name="StepsTotal">Level pushes planned (at least <paramref name="StepsDone"/>).</param>
/// <param name="Level">The output level of the last push finished (0 before the first).</param>
/// <param name="BytesDone">Bytes of the input tables of the finished pushes.</param>
/// <param name="BytesTotal">Input bytes planned (an estimate: outputs can be smaller than their inputs).</param>
/// <param name="Started">When the compaction started (the store's time provider).</param>
/// <param name="Finished">When it returned, or null while it runs.</param>
/// <param name="Error">Why it failed, or null.</param>
/// <param name="TablesBefore">Tables in the store (every level, archived ones included) when the compaction planned
/// its work, after its flush: the memtable's contents are counted as the table they became (0 before the plan).</param>
public sealed record CompactionProgress(bool Running, int StepsDone, int StepsTotal, int Level, long BytesDone, long BytesTotal, DateTimeOffset Started, DateTimeOffset? Finished, string? Error, int TablesBefore = 0);
