using DotNext.IO.Log;
using DotNext.Net.Cluster.Consensus.Raft;
using RaftKv.Replication.Diagnostics;

namespace RaftKv.Replication.Log;

internal sealed partial class RaftLog
{
    ValueTask<TResult> IAuditTrail<IRaftLogEntry>.ReadAsync<TResult>(ILogEntryConsumer<IRaftLogEntry, TResult> reader, long startIndex, long endIndex, CancellationToken token)
    {
        // Only DotNext's replication to a follower reads whole entries besides the tail stream (TailReader, which must
        // get the snapshot itself); term lookups read metadata only.
        if (!reader.LogEntryMetadataOnly)
        {
            RoundTrace.Mark(RoundTrace.Point.ReadForReplication, endIndex);
        }

        var list = Read(startIndex, endIndex, out var snapshotIndex, byReference: !reader.LogEntryMetadataOnly && reader is not TailReader);
        if (snapshotIndex is not null && !reader.LogEntryMetadataOnly)
        {
            Interlocked.Exchange(ref _snapshotSentAtMs, Environment.TickCount64);
        }

        if (snapshotIndex is { } picked && reader is TailReader { Pin: { } pin })
        {
            pin.From = picked + 1; // RaftLog.SnapshotPull.cs
        }

        return reader.ReadAsync<IRaftLogEntry, List<IRaftLogEntry>>(list, snapshotIndex, token);
    }

    ValueTask<TResult> IAuditTrail.ReadAsync<TResult>(ILogEntryConsumer<ILogEntry, TResult> reader, long startIndex, long endIndex, CancellationToken token)
    {
        var list = Read(startIndex, endIndex, out var snapshotIndex, byReference: false);
        return reader.ReadAsync<IRaftLogEntry, List<IRaftLogEntry>>(list, snapshotIndex, token);
    }

    private long _snapshotSentAtMs = long.MinValue / 2; // Environment.TickCount64 when a snapshot or reference was last read to be sent

    /// <summary>Leader: milliseconds (<see cref="Environment.TickCount64"/>) since a snapshot, or a reference to one, was last
    /// read to be sent to a member (DotNext's InstallSnapshot or a pull stream); very large when never.</summary>
    public long MillisecondsSinceSnapshotSent => Environment.TickCount64 - Interlocked.Read(ref _snapshotSentAtMs);

    /// <summary>Payload bytes one read returns at most (at least one entry): the most one AppendEntries carries.</summary>
    public long MaxReadBytes { get; set; } = DefaultMaxReadBytes;

    /// <summary>2 MiB: 32 entries of 64 KiB; etcd sends at most 1 MiB per message (MaxSizePerMsg), but with up to 256
    /// messages in flight per follower, where DotNext has one round in flight.</summary>
    public const long DefaultMaxReadBytes = 2 << 20;

    /// <summary>Called when a read stopped at <see cref="MaxReadBytes"/>: entries remain for the next round, which the
    /// node starts at once (a replication round otherwise waits for the next write or heartbeat).</summary>
    public Action? MoreToReplicate { get; set; }

    /// <summary>
    /// Entries <paramref name="startIndex"/>..<paramref name="endIndex"/> (up to <see cref="MaxReadBytes"/>), as DotNext's WAL
    /// returns them: when the snapshot covers <paramref name="startIndex"/> and the log no longer holds it, the snapshot
    /// comes first (and <paramref name="snapshotIndex"/> is its index), followed by the entries after it. With
    /// <paramref name="byReference"/>, a snapshot larger than <see cref="PullSnapshotsAboveBytes"/> is replaced by a
    /// <see cref="SnapshotReference"/> to the applied index (alone: DotNext sends only the snapshot of such a list).
    /// </summary>
    private List<IRaftLogEntry> Read(long startIndex, long endIndex, out long? snapshotIndex, bool byReference)
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
            if (_state.Snapshot is { } snapshot && snapshot.Index >= startIndex && startIndex <= _store.BaseIndex)
            {
                // Only when the log no longer holds the entries: the tail kept below the snapshot (RetainEntries,
                // RetainBytes) lets a follower a few rounds behind catch up by AppendEntries instead.
                if (byReference && ((DotNext.IO.IDataTransferObject)snapshot).Length > PullSnapshotsAboveBytes)
                {
                    var reference = ReferenceToApplied(snapshot.Index);
                    snapshotIndex = reference.Index;
                    return [reference];
                }

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

            long bytes = 0;
            var added = 0;
            foreach (var record in records)
            {
                // One AppendEntries carries at most MaxReadBytes of payload (always at least one entry), as etcd's
                // MaxSizePerMsg: DotNext sends everything a follower lacks in one request that must end within the
                // Raft request timeout, receive and fsync included, so a follower behind by many large entries would
                // time out on every retry and never catch up. DotNext counts the entries it got; the next round
                // sends the rest.
                bytes += record.Length;
                if (bytes > MaxReadBytes && added > 0)
                {
                    MoreToReplicate?.Invoke();
                    break;
                }

                list.Add(new StoredEntry(record, _store));
                added++;
            }

            return list;
        }

        throw new InvalidOperationException($"entries {startIndex}..{endIndex} are neither in the log (base {_store.BaseIndex}) nor in the snapshot");
    }
}
