using RaftKv.Storage.Tables;

namespace RaftKv.Storage;

/// <summary>A compaction output whose table is complete but maybe not yet durable: its fsync
/// (<see cref="Sync"/>, which also disposes the writer) runs on the thread pool while the compaction
/// goes on merging into the next table. Nothing reads or records the table before <see cref="Sync"/>
/// has completed successfully.</summary>
internal sealed record SealedOutput(long Id, TableMeta Meta, long Size, Task Sync);
