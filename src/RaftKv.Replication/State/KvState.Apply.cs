using System.Buffers;
using DotNext.IO;
using DotNext.Net.Cluster.Consensus.Raft;
using DotNext.Net.Cluster.Consensus.Raft.StateMachine;
using RaftKv.Replication.Commands;

namespace RaftKv.Replication.State;

internal sealed partial class KvState
{
    /// <summary>How long a request id is remembered for exactly-once retries (logical time).</summary>
    public static readonly TimeSpan RequestIdRetention = TimeSpan.FromMinutes(10);

    /// <summary>DotNext's entry point (used by its <c>WriteAheadLog</c>); <see cref="Log.RaftLog"/> calls the methods below.</summary>
    public ValueTask<long> ApplyAsync(LogEntry entry, CancellationToken token)
    {
        if (entry.IsSnapshot)
        {
            return InstallSnapshotAsync(entry, entry.Index, token);
        }

        TryGetPayload(entry, out var payload);
        return ApplyEntryAsync(entry.Index, entry.Term, entry.IsConfiguration, payload, entry.Context, token);
    }

    /// <summary>
    /// Applies the committed entry at <paramref name="index"/>. Called by one applier at a time, in index
    /// order; completes the proposer's <see cref="ApplyResult"/> when <paramref name="context"/> is one.
    /// </summary>
    public async ValueTask<long> ApplyEntryAsync(long index, long term, bool isConfiguration, byte[] payload, object? context, CancellationToken token)
    {
        RecordTerm(index, term);
        var holder = context as ApplyResult;
        if (isConfiguration || payload.Length is 0)
        {
            _store.Advance(index);
            return index;
        }

        var command = CommandCodec.Decode(payload); // unknown versions throw: the node stops applying rather than guess
        try
        {
            // Never waits on the object store (KvState.Txn.cs); an exception (a local I/O error, or a
            // pre-version-2 value compare whose value is unreachable) stops this node's applier: fail-stop.
            var (result, conflict, error) = await ApplyCommandAsync(index, command, holder, token).ConfigureAwait(false);
            if (conflict)
            {
                holder?.SetConflict(index);
            }
            else if (error is not null)
            {
                holder?.Fail(error); // a deterministic refusal (nothing applied but the clock), not a fail-stop
            }
            else
            {
                holder?.Set(result);
            }
        }
        catch (Exception e) when (e is not OperationCanceledException && holder is not null)
        {
            holder.Fail(e);
            throw;
        }

        return index;
    }

    private static bool TryGetPayload(in LogEntry entry, out byte[] payload)
    {
        if (entry.TryGetPayload(out var seq))
        {
            payload = seq.ToArray();
            return payload.Length > 0;
        }

        payload = [];
        return false;
    }

    /// <summary>
    /// Replaces the state with the snapshot <paramref name="entry"/> ending at <paramref name="index"/>
    /// (streamed from the leader). The caller MUST keep the applier out meanwhile.
    /// </summary>
    public async ValueTask<long> InstallSnapshotAsync<TEntry>(TEntry entry, long index, CancellationToken token)
        where TEntry : IRaftLogEntry
    {
        await _snapshotLock.WaitAsync(token).ConfigureAwait(false);
        try
        {
            // Crash safety: the payload is unpacked into incoming-* (deleted at restore if unfinished);
            // the store's ingest is the commit point of the new state; the checkpoint directory is
            // renamed into place and the parent synced after it.
            var incoming = Path.Combine(_snapshotsDir, $"incoming-{index}");
            var packed = incoming + ".bin";
            _fs.DeleteDirectory(incoming);
            using (var file = _fs.Create(packed))
            {
                await using var stream = new WritableFileStream(file);
                var writer = IAsyncBinaryWriter.Create(stream, new byte[1 << 16]);
                await entry.WriteToAsync(writer, token).ConfigureAwait(false);
            }

            SnapshotPacker.Unpack(_fs, packed, incoming);
            _fs.Delete(packed);
            await _store.IngestAsync(incoming, token).ConfigureAwait(false);
            var final = Path.Combine(_snapshotsDir, $"{index:D20}-{entry.Term}");
            _fs.DeleteDirectory(final);
            _fs.RenameDirectory(incoming, final);
            _fs.SyncDirectory(_snapshotsDir);
            lock (_termLock)
            {
                _terms.Clear();
                _terms.Add((index, entry.Term));
            }

            if (await _store.GetAsync(ReservedKeys.Clock, 0, token).ConfigureAwait(false) is { } clock)
            {
                Interlocked.Exchange(ref _clock, BitConverter.ToInt64(clock.Value.Span));
            }

            Alarms.Load(_store);
            Learners.Load(_store);
            LoadClusterUid(_store);
            LoadRevision();
            LoadTtlHorizon(storeHasApplied: true);
            Watch.Resync(); // live watchers skipped the revisions the snapshot brought: they catch up from the history
            Leases.Load(_store);
            Auth.Load(_store);
            _snapshot = new CheckpointSnapshot(_fs, final, index, entry.Term, _time.GetUtcNow());
            Interlocked.Increment(ref SnapshotsInstalled);
            LogSnapshotInstalled(_logger, index, entry.Term);
            return index;
        }
        finally
        {
            _snapshotLock.Release();
        }
    }
}
