namespace RaftKv.Storage;

/// <summary>Engine counters, updated with Interlocked.</summary>
internal sealed class StoreCounters
{
    public long Gets;
    public long MemtableHits;
    public long Flushes;
    public long Compactions;
    public long TrivialMoves;
    public long RemoteTablesCompacted;
    public long RemoteBytesCompacted;
    public long Stalls;
    public long FlushBytesWritten;
    public long CompactionBytesRead;
    public long CompactionBytesWritten;
    public long ObjectReads;
}
