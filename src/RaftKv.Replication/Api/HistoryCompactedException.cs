namespace RaftKv.Replication.Api;

/// <summary>A watch asked for changes older than the retained history (the oldest kept change is
/// <see cref="OldestIndex"/>). The server maps it to HTTP 400 <c>compacted</c> / gRPC OUT_OF_RANGE
/// (a gRPC watch also answers <c>compacted=true</c>). Derives from <see cref="InvalidOperationException"/>,
/// the type thrown before it existed.</summary>
public sealed class HistoryCompactedException : InvalidOperationException
{
    public HistoryCompactedException(long startIndex, long oldestIndex)
        : base($"watch start index {startIndex} is older than the retained history (oldest {oldestIndex})")
    {
        StartIndex = startIndex;
        OldestIndex = oldestIndex;
    }

    public long StartIndex { get; }

    public long OldestIndex { get; }
}
