using DotNext.IO.Log;
using DotNext.Net.Cluster.Consensus.Raft;

namespace RaftKv.Replication.Log;

internal sealed partial class RaftLog
{
    ValueTask<TResult> IAuditTrail<IRaftLogEntry>.ReadAsync<TResult>(ILogEntryConsumer<IRaftLogEntry, TResult> reader, long startIndex, long endIndex, CancellationToken token)
    {
        var list = Read(startIndex, endIndex, out var snapshotIndex);
        return reader.ReadAsync<IRaftLogEntry, List<IRaftLogEntry>>(list, snapshotIndex, token);
    }

    ValueTask<TResult> IAuditTrail.ReadAsync<TResult>(ILogEntryConsumer<ILogEntry, TResult> reader, long startIndex, long endIndex, CancellationToken token)
    {
        var list = Read(startIndex, endIndex, out var snapshotIndex);
        return reader.ReadAsync<IRaftLogEntry, List<IRaftLogEntry>>(list, snapshotIndex, token);
    }

    /// <summary>
    /// Entries <paramref name="startIndex"/>..<paramref name="endIndex"/>, as DotNext's WAL returns them:
    /// when the snapshot covers <paramref name="startIndex"/>, the snapshot comes first (and
    /// <paramref name="snapshotIndex"/> is its index), followed by the entries after it.
    /// </summary>
    private List<IRaftLogEntry> Read(long startIndex, long endIndex, out long? snapshotIndex)
    {
        ThrowIfFailed();
        ArgumentOutOfRangeException.ThrowIfNegative(startIndex);
        var last = _store.LastIndex;
        if (endIndex < 0 || endIndex > last)
        {
            throw new ArgumentOutOfRangeException(nameof(endIndex), $"entry {endIndex} is past the end of the log ({last})");
        }

        snapshotIndex = null;
        var list = new List<IRaftLogEntry>((int)Math.Clamp(endIndex - startIndex + 2, 0, 1024));
        if (startIndex > endIndex)
        {
            return list;
        }

        if (_state.Snapshot is { } snapshot && snapshot.Index >= startIndex)
        {
            snapshotIndex = snapshot.Index;
            list.Add(snapshot);
            startIndex = snapshot.Index + 1;
        }
        else if (startIndex == 0)
        {
            list.Add(StoredEntry.Initial);
            startIndex = 1;
        }

        if (startIndex <= _store.BaseIndex && startIndex <= endIndex)
        {
            throw new InvalidOperationException($"entry {startIndex} was compacted into a snapshot that is gone");
        }

        foreach (var record in _store.GetRange(startIndex, endIndex))
        {
            list.Add(new StoredEntry(record, _store));
        }

        return list;
    }
}
