using DotNext.IO.Log;
using RaftKv.Replication.Diagnostics;
using RaftKv.Storage.IO;

namespace RaftKv.Replication.Log;

internal sealed partial class RaftLog
{
    // No spinning: the flusher sleeps in the kernel between requests (a spinning wait cost 5 % of a
    // leader's CPU in sched_yield on a 2-core machine).
    private readonly ManualResetEventSlim _flushRequest = new(initialState: false, spinCount: 0);

    /// <summary>
    /// Commits up to <paramref name="endIndex"/> once it is durable here. A follower waits until every
    /// entry it holds is durable: DotNext replies to AppendEntries right after this call, and the leader
    /// counts that reply towards the quorum for all of them.
    /// </summary>
    async ValueTask<long> IAuditTrail.CommitAsync(long endIndex, CancellationToken token)
    {
        ThrowIfFailed();
        var last = _store.LastIndex;
        var end = Math.Min(endIndex, last);
        var leader = IsLeader();
        if (leader)
        {
            RoundTrace.Mark(RoundTrace.Point.CommitRequested, endIndex);
        }

        var mustBeDurable = leader ? end : last;
        if (!leader && _store.DurableIndex < mustBeDurable)
        {
            // A follower replies right after this call: fsync here, on the caller's thread, rather than hand the
            // flush to the flusher thread and wait to be woken (two thread switches per AppendEntries round). Out of
            // disk space the flusher keeps the retries (with backoff), and this call waits for them below.
            Interlocked.Increment(ref _followerFlushWaits);
            if (DiskFull is null && _failure is null)
            {
                FlushOnce();
                RoundTrace.Mark(RoundTrace.Point.FollowerDurable, _store.DurableIndex);
            }
        }

        if (_store.DurableIndex < mustBeDurable)
        {
            // A leader out of disk space does not wait for entries that cannot be written: it commits
            // what is durable here (below), so the replication round ends and reads keep being served.
            await WaitDurableAsync(mustBeDurable, stopWhenDiskFull: leader, token).ConfigureAwait(false);
        }

        if (leader)
        {
            end = Math.Min(end, _store.DurableIndex); // only less than end while the disk is full
        }

        long previous;
        do
        {
            previous = Interlocked.Read(ref _commitIndex);
            if (end <= previous)
            {
                return 0;
            }
        }
        while (Interlocked.CompareExchange(ref _commitIndex, end, previous) != previous);

        RoundTrace.Mark(RoundTrace.Point.Committed, end);
        _applyTrigger.Set();
        return end - previous;
    }

    /// <summary>Asks the flusher to run (it covers everything appended so far).</summary>
    private void RequestFlush()
    {
        if (!_flushRequest.IsSet)
        {
            _flushRequest.Set(); // a request already pending covers this entry too
        }
    }

    private async ValueTask WaitDurableAsync(long index, bool stopWhenDiskFull, CancellationToken token)
    {
        while (_store.DurableIndex < index)
        {
            ThrowIfFailed();
            if (stopWhenDiskFull && DiskFull is not null)
            {
                return;
            }

            Task next;
            lock (_signalLock)
            {
                if (_store.DurableIndex >= index)
                {
                    return;
                }

                next = _flushed.Task;
            }

            RequestFlush();
            await next.WaitAsync(token).ConfigureAwait(false);
        }
    }

    /// <summary>The flusher thread: each request writes everything queued with one write and one fsync.</summary>
    private void FlushLoop()
    {
        var token = _lifetime.Token;
        while (true)
        {
            try
            {
                if (DiskFull is null)
                {
                    _flushRequest.Wait(token);
                }
                else
                {
                    _flushRequest.Wait(_retryDelay, token); // out of space: retry with backoff, asked or not
                }

                _flushRequest.Reset(); // requests from here on are covered by the flush below or the next one
            }
            catch (OperationCanceledException)
            {
                return;
            }

            if (DiskFull is not null)
            {
                TryRestoreReserve();
            }

            FlushOnce();
            RoundTrace.Mark(RoundTrace.Point.LeaderDurable, _store.DurableIndex); // on a follower too (its flusher's own flushes)
            if (_failure is not null)
            {
                return;
            }
        }
    }

    /// <summary>
    /// Writes and fsyncs everything appended so far, then wakes whoever waits for a flush. Runs on the flusher thread,
    /// or on a follower's AppendEntries call (<see cref="IAuditTrail.CommitAsync"/>); the store's flush gate orders the
    /// two, so when it returns every entry appended before the call is durable, or the disk is full, or the log failed.
    /// </summary>
    private void FlushOnce()
    {
        try
        {
            _store.Flush(Interlocked.Read(ref _commitIndex));
            OnFlushSucceeded();
        }
        catch (DiskFullException e)
        {
            // Recoverable: the batch stays queued; waiters keep waiting, new proposals that add data
            // are refused (DiskFull), and the flusher retries with backoff (RaftLog.DiskFull.cs).
            OnDiskFull(e);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or InvalidOperationException)
        {
            // Nothing after a failed fsync can be trusted (the page cache may have dropped the data):
            // stop here; every waiter fails and the node must restart and recover from disk.
            Volatile.Write(ref _failure, e);
            LogFlushFailed(_logger, e);
        }

        TaskCompletionSource done;
        lock (_signalLock)
        {
            done = _flushed;
            _flushed = NewSignal();
        }

        done.SetResult();
    }

    /// <summary>The applier: applies committed entries in order, then drops the log below a new snapshot.</summary>
    private async Task ApplyLoopAsync()
    {
        var token = _lifetime.Token;
        try
        {
            while (!token.IsCancellationRequested)
            {
                await _applyTrigger.WaitAsync(token).ConfigureAwait(false);
                await _applyGate.WaitAsync(token).ConfigureAwait(false);
                try
                {
                    await ApplyCommittedAsync(token).ConfigureAwait(false);
                    await CompactAsync(token).ConfigureAwait(false);
                }
                finally
                {
                    _applyGate.Release();
                }
            }
        }
        catch (OperationCanceledException) when (token.IsCancellationRequested)
        {
        }
    }

    // Caller holds _applyGate.
    private async ValueTask ApplyCommittedAsync(CancellationToken token)
    {
        while (Interlocked.Read(ref _appliedIndex) < Interlocked.Read(ref _commitIndex))
        {
            var index = Interlocked.Read(ref _appliedIndex) + 1;
            var record = _store.Get(index);
            if (record is null)
            {
                // Below the log's base: a snapshot covers it.
                Interlocked.Exchange(ref _appliedIndex, Math.Max(index, _store.BaseIndex));
                SignalApplied();
                continue;
            }

            try
            {
                var payload = _store.ReadPayload(record);
                if (record.IsConfiguration && ConfigurationStorage is { } membership)
                {
                    await membership.SaveConfigurationAsync(new StoredEntry(record, _store), index, token).ConfigureAwait(false);
                }

                await _state.ApplyEntryAsync(index, record.Term, record.IsConfiguration, payload, record.Context, token).ConfigureAwait(false);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                Volatile.Write(ref _failure, e);
                LogApplyFailed(_logger, index, e);
                SignalApplied();
                throw;
            }

            record.Context = null;
            Interlocked.Exchange(ref _appliedIndex, index);
            RoundTrace.Mark(RoundTrace.Point.Applied, index);
            if (index == Interlocked.Read(ref _commitIndex) || _waiters.Count > 0)
            {
                SignalApplied();
            }
        }
    }

    // Caller holds _applyGate.
    private async ValueTask CompactAsync(CancellationToken token)
    {
        if (_state.Snapshot is { } snapshot && snapshot.Index <= Interlocked.Read(ref _appliedIndex) && snapshot.Index != _compactedFor)
        {
            lock (_appendLock)
            {
                var (index, term) = CompactionBase(snapshot); // RaftLog.SnapshotPull.cs: the retained tail, or pinned entries
                _store.Compact(index, term);
            }

            _compactedFor = snapshot.Index;
            await _state.ReclaimGarbageAsync(snapshot.Index, token).ConfigureAwait(false);
        }
        else if (_store.DropPending && _state.Snapshot is not null)
        {
            lock (_appendLock)
            {
                _store.Compact(_store.BaseIndex, _store.TermAt(_store.BaseIndex)); // deletes the covered segment
            }
        }
    }

    /// <summary>Drops the log below the state machine's newest snapshot now (keeping the retained tail) instead of after
    /// the next apply: an explicit flush (<c>KvNode.FlushAsync</c>) leaves the log compacted when it returns, so a
    /// follower that lacks entries below the snapshot (and the tail) is sent the snapshot.</summary>
    public async Task CompactNowAsync(CancellationToken token)
    {
        await _applyGate.WaitAsync(token).ConfigureAwait(false);
        try
        {
            await CompactAsync(token).ConfigureAwait(false);
        }
        finally
        {
            _applyGate.Release();
        }
    }

    /// <summary>The snapshot index the log was last compacted for (applier only).</summary>
    private long _compactedFor = -1;

    /// <summary>At most this many entries stay in the log below a new snapshot (etcd's SnapshotCatchUpEntries, 5000), so a
    /// follower a few rounds behind when the leader snapshots catches up by AppendEntries: a snapshot (the whole store)
    /// cannot be sent within DotNext's Raft request timeout once the store is large, and the follower would retry it
    /// forever. 0: the log is dropped up to the snapshot.</summary>
    public int RetainEntries { get; set; } = DefaultRetainEntries;

    /// <summary>... and at most this many payload bytes (with large values, entries count for little).</summary>
    public long RetainBytes { get; set; } = DefaultRetainBytes;

    public const int DefaultRetainEntries = 5000;

    public const long DefaultRetainBytes = 64L << 20;

    /// <summary>
    /// Wakes the waiters whose index is now applied (each proposer exactly once, not all of them per
    /// entry) and those waiting for any apply.
    /// </summary>
    private void SignalApplied()
    {
        TaskCompletionSource any;
        List<TaskCompletionSource>? ready = null;
        var applied = Interlocked.Read(ref _appliedIndex);
        var failed = Volatile.Read(ref _failure) is not null;
        lock (_signalLock)
        {
            any = _applied;
            _applied = NewSignal();
            while (_waiters.TryPeek(out var waiter, out var index) && (index <= applied || failed))
            {
                _waiters.Dequeue();
                (ready ??= []).Add(waiter);
            }
        }

        any.SetResult();
        ready?.ForEach(static w => w.TrySetResult());
    }

    private async ValueTask WaitForAppliedAsync(long index, CancellationToken token)
    {
        if (Interlocked.Read(ref _appliedIndex) >= index)
        {
            return;
        }

        TaskCompletionSource waiter;
        lock (_signalLock)
        {
            if (Interlocked.Read(ref _appliedIndex) >= index)
            {
                return;
            }

            ThrowIfFailed();
            waiter = NewSignal();
            _waiters.Enqueue(waiter, index);
        }

        await waiter.Task.WaitAsync(token).ConfigureAwait(false);
        ThrowIfFailed();
    }

    ValueTask IAuditTrail.WaitForApplyAsync(long index, CancellationToken token) => WaitForAppliedAsync(index, token);

    async ValueTask IAuditTrail.WaitForApplyAsync(CancellationToken token)
    {
        ThrowIfFailed();
        Task next;
        lock (_signalLock)
        {
            next = _applied.Task;
        }

        await next.WaitAsync(token).ConfigureAwait(false);
    }
}
