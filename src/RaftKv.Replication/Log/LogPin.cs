namespace RaftKv.Replication.Log;

/// <summary>Keeps a leader's log entries from <see cref="From"/> on when the log is compacted below a new snapshot
/// (<see cref="RaftLog.Pin"/>): a tail stream sending a snapshot holds one so that the entries after it are still
/// there once the snapshot has crossed. Thread-safe; dispose to release.</summary>
internal sealed class LogPin(RaftLog log, long from) : IDisposable
{
    private long _from = from;

    /// <summary>The first index kept; the holder moves it forward as it sends.</summary>
    public long From
    {
        get => Interlocked.Read(ref _from);
        set => Interlocked.Exchange(ref _from, value);
    }

    public void Dispose() => log.Unpin(this);
}
