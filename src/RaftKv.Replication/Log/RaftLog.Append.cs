using DotNext.IO;
using DotNext.IO.Log;
using DotNext.Net.Cluster.Consensus.Raft;
using Microsoft.Extensions.Logging;
using RaftKv.Replication.Commands;
using RaftKv.Replication.Diagnostics;

namespace RaftKv.Replication.Log;

internal sealed partial class RaftLog
{
    /// <summary>The leader's append of a new entry; durable only after a later flush.</summary>
    async ValueTask<long> IAuditTrail<IRaftLogEntry>.AppendAsync<TEntry>(TEntry entry, CancellationToken token)
    {
        ThrowIfFailed();
        if (entry.IsSnapshot)
        {
            throw new InvalidOperationException("a snapshot cannot be appended as a new entry");
        }

        var payload = entry is KvLogEntry kv ? kv.Payload : await CopyPayloadAsync(entry, token).ConfigureAwait(false);
        var context = entry is IInputLogEntry input ? input.Context : null;
        long index;
        lock (_appendLock)
        {
            index = _store.LastIndex + 1;
            _store.Append(ToRecord(entry, index, payload, context));
        }

        RoundTrace.Mark(RoundTrace.Point.Appended, index);
        RequestFlush(); // starts this node's fsync while the entry travels to the followers
        return index;
    }

    /// <summary>A follower's append of entries from the leader, starting at <paramref name="startIndex"/>.</summary>
    /// <remarks>Durability: none here. DotNext 6.12 calls <see cref="IAuditTrail.CommitAsync"/> right after this (as does
    /// the learner's tail) and replies to the leader only then; that call fsyncs every entry the follower holds, on its
    /// own thread, so this one does not wake the flusher thread (two thread switches per AppendEntries round).</remarks>
    async ValueTask IAuditTrail<IRaftLogEntry>.AppendAsync<TEntry>(ILogEntryProducer<TEntry> entries, long startIndex, bool skipCommitted, CancellationToken token)
    {
        RoundTrace.Mark(RoundTrace.Point.FollowerReceived, startIndex);
        AppendBatch(await ReadBatchAsync(entries, startIndex, token).ConfigureAwait(false), startIndex, skipCommitted, requestFlush: false);
    }

    private async ValueTask<List<LogRecord>> ReadBatchAsync<TEntry>(ILogEntryProducer<TEntry> entries, long startIndex, CancellationToken token)
        where TEntry : IRaftLogEntry
    {
        ThrowIfFailed();
        var batch = new List<LogRecord>();
        var index = startIndex;
        while (await entries.MoveNextAsync().ConfigureAwait(false))
        {
            var entry = entries.Current;
            if (entry is null || entry.IsSnapshot)
            {
                throw new InvalidOperationException("a snapshot cannot be appended as an entry");
            }

            batch.Add(ToRecord(entry, index++, await CopyPayloadAsync(entry, token).ConfigureAwait(false), null));
        }

        return batch;
    }

    /// <summary>One entry at <paramref name="startIndex"/>, or a snapshot from the leader (installs it; a snapshot at or
    /// below the commit index is ignored: the log already holds its state).</summary>
    /// <remarks>Ordering: an installation holds <c>_applyGate</c> (no entry is applied meanwhile) and decides under it
    /// whether the snapshot is still past the commit index; the log reset is durable before the call returns.</remarks>
    async ValueTask IAuditTrail<IRaftLogEntry>.AppendAsync<TEntry>(TEntry entry, long startIndex, CancellationToken token)
    {
        ThrowIfFailed();
        if (!entry.IsSnapshot)
        {
            var payload = await CopyPayloadAsync(entry, token).ConfigureAwait(false);
            AppendBatch([ToRecord(entry, startIndex, payload, null)], startIndex, skipCommitted: false, requestFlush: true);
            return;
        }

        if (startIndex <= Interlocked.Read(ref _commitIndex))
        {
            LogSnapshotNotPastCommit(_logger, startIndex, Interlocked.Read(ref _commitIndex));
            return; // the committed log already holds this state (see below)
        }

        if (SnapshotReference.IsReference(entry))
        {
            await OnSnapshotReferenceAsync(entry, startIndex, token).ConfigureAwait(false); // RaftLog.SnapshotPull.cs
            return;
        }

        await _applyGate.WaitAsync(token).ConfigureAwait(false);
        try
        {
            // Checked again under the gate: two installations can pass the check above together (a learner's tail
            // and DotNext's InstallSnapshot of the same snapshot while a promotion starts; DotNext checks only
            // against its own calls). The second one, run after the first and after entries committed past it,
            // would roll the state back and reset the log below the commit index: a log whose end is behind its
            // commit index accepts no entry any more ("log append at index N, expected M"). A snapshot at or below
            // the commit index holds nothing the committed log lacks (Raft's log matching): it is ignored, as
            // etcd/raft ignores one at or below its commit index.
            if (startIndex <= Interlocked.Read(ref _commitIndex))
            {
                LogSnapshotNotPastCommit(_logger, startIndex, Interlocked.Read(ref _commitIndex));
                return;
            }

            await _state.InstallSnapshotAsync(entry, startIndex, token).ConfigureAwait(false);
            lock (_appendLock)
            {
                _store.Reset(startIndex, entry.Term);
            }

            Interlocked.Exchange(ref _commitIndex, Math.Max(Interlocked.Read(ref _commitIndex), startIndex));
            Interlocked.Exchange(ref _appliedIndex, startIndex);
            SignalApplied();
        }
        finally
        {
            _applyGate.Release();
        }

        // The reset MUST be durable before the reply: stale entries past the snapshot must not come back.
        await WaitFlushAsync(token).ConfigureAwait(false);
    }

    private void AppendBatch(List<LogRecord> batch, long startIndex, bool skipCommitted, bool requestFlush)
    {
        lock (_appendLock)
        {
            var last = _store.LastIndex;
            if (startIndex > last + 1)
            {
                throw new ArgumentOutOfRangeException(nameof(startIndex), $"entries start at {startIndex} but the log ends at {last}");
            }

            var commit = Interlocked.Read(ref _commitIndex);
            foreach (var record in batch)
            {
                if (record.Index <= commit)
                {
                    if (!skipCommitted)
                    {
                        throw new InvalidOperationException($"entry {record.Index} is already committed (commit index {commit})");
                    }

                    continue;
                }

                if (record.Index <= _store.LastIndex)
                {
                    // Raft's log matching: same index and term means the same entry; only a conflict
                    // truncates (a delayed, shorter AppendEntries must not drop entries acknowledged since).
                    if (_store.TermAt(record.Index) == record.Term)
                    {
                        continue;
                    }

                    _store.TruncateFrom(record.Index);
                }

                _store.Append(record);
            }
        }

        if (requestFlush)
        {
            RequestFlush();
        }
    }

    /// <summary>Waits for a flush that starts after this call (covers every change made before it).</summary>
    private async ValueTask WaitFlushAsync(CancellationToken token)
    {
        Task next;
        lock (_signalLock)
        {
            next = _flushed.Task;
        }

        RequestFlush();
        await next.WaitAsync(token).ConfigureAwait(false);
        lock (_signalLock)
        {
            next = _flushed.Task;
        }

        RequestFlush(); // the flush we saw may have started before this call
        await next.WaitAsync(token).ConfigureAwait(false);
        ThrowIfFailed();
    }

    private static LogRecord ToRecord<TEntry>(TEntry entry, long index, byte[] payload, object? context)
        where TEntry : IRaftLogEntry
        => new()
        {
            Index = index,
            Term = entry.Term,
            TimestampTicks = DateTime.UtcNow.Ticks, // when this node appended it (diagnostics only)
            CommandId = entry.CommandId,
            IsConfiguration = entry.IsConfiguration,
            Length = payload.Length,
            Payload = payload,
            Context = context,
        };

    /// <summary>A private copy of the entry's content (network buffers are reused after the call). An entry
    /// received from the leader is read straight from the connection into an array of its length (one copy;
    /// the generic path wrote it into a growable buffer through a copy buffer, then copied it again).</summary>
    private static async ValueTask<byte[]> CopyPayloadAsync<TEntry>(TEntry entry, CancellationToken token)
        where TEntry : IRaftLogEntry
    {
        if (entry.TryGetMemory(out var memory))
        {
            return memory.ToArray();
        }

        var length = entry.Length;
        if (length is { } exact and >= 0 and < int.MaxValue)
        {
            return exact == 0 ? [] : await entry.TransformAsync<byte[], ExactPayload>(new ExactPayload((int)exact), token).ConfigureAwait(false);
        }

        var writer = new System.Buffers.ArrayBufferWriter<byte>(256);
        await entry.WriteToAsync(writer, token).ConfigureAwait(false);
        return writer.WrittenSpan.ToArray();
    }

    /// <summary>Reads exactly <paramref name="length"/> bytes into a new array.</summary>
    private readonly struct ExactPayload(int length) : IDataTransferObject.ITransformation<byte[]>
    {
        public async ValueTask<byte[]> TransformAsync<TReader>(TReader reader, CancellationToken token)
            where TReader : notnull, IAsyncBinaryReader
        {
            var payload = new byte[length];
            await reader.ReadAsync(payload, token).ConfigureAwait(false);
            return payload;
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Snapshot at index {Index} ignored: the log is committed up to {CommitIndex} already")]
    private static partial void LogSnapshotNotPastCommit(ILogger logger, long index, long commitIndex);
}
