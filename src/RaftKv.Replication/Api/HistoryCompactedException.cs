namespace RaftKv.Replication.Api;

/// <summary>A watch or read asked for changes older than the retained history (the oldest kept change is
/// <see cref="OldestIndex"/>). The server maps it to HTTP 400 <c>compacted</c> / gRPC OUT_OF_RANGE
/// (a gRPC watch also answers <c>compacted=true</c>). Derives from <see cref="InvalidOperationException"/>,
/// the type thrown before it existed. Since MVCC (issue #14) the indexes are revisions and the thrown type is
/// <see cref="RevisionCompactedException"/>.</summary>
public class HistoryCompactedException : InvalidOperationException
{
    public HistoryCompactedException(long startIndex, long oldestIndex)
        : this(startIndex, oldestIndex, $"watch start revision {startIndex} is older than the retained history (oldest {oldestIndex})")
    {
    }

    protected HistoryCompactedException(long startIndex, long oldestIndex, string message)
        : base(message)
    {
        StartIndex = startIndex;
        OldestIndex = oldestIndex;
    }

    public long StartIndex { get; }

    public long OldestIndex { get; }
}
