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
        if (startIndex > endIndex)
        {
            return [];
        }

        // The applier may compact the log between reading the snapshot and the entries; the list MUST
        // be contiguous (DotNext numbers entries by position), so a torn read is retried.
        for (var attempt = 0; attempt < 3; attempt++)
        {
            var list = new List<IRaftLogEntry>((int)Math.Clamp(endIndex - startIndex + 2, 0, 1024));
            var from = startIndex;
            snapshotIndex = null;
            if (_state.Snapshot is { } snapshot && snapshot.Index >= startIndex)
            {
                snapshotIndex = snapshot.Index;
                list.Add(snapshot);
                from = snapshot.Index + 1;
            }
            else if (startIndex == 0)
            {
                list.Add(StoredEntry.Initial);
                from = 1;
            }

            var records = _store.GetRange(from, endIndex);
            if (from <= endIndex && (records.Count == 0 || records[0].Index != from))
            {
                continue;
            }

            foreach (var record in records)
            {
                list.Add(new StoredEntry(record, _store));
            }

            return list;
        }

        throw new InvalidOperationException($"entries {startIndex}..{endIndex} are neither in the log (base {_store.BaseIndex}) nor in the snapshot");
    }
}
