using RaftKv.Replication.Api;

namespace RaftKv.Replication;

/// <summary>
/// Batches a follower's concurrent linearizable reads into one read-index request in flight (etcd's
/// <c>linearizableReadLoop</c> rule): a read arriving while no request is outstanding starts one; reads arriving while
/// one is outstanding share the NEXT request, sent as soon as the outstanding one completes. A read therefore never
/// uses an index that was requested before it arrived — that index might miss a write acknowledged after the request
/// left but before the read began.
/// </summary>
/// <remarks>A round's failure fails every read of that batch (each falls back on its own, KvNode.FollowerReadIndex.cs);
/// the next batch still gets its own round. A read that gives up (its cancellation) leaves the round running for the
/// others. <paramref name="fetch"/> runs on one round at a time, with <paramref name="stop"/>; it must bound itself.</remarks>
internal sealed class ReadIndexBatcher(Func<CancellationToken, Task<LeaderReadIndex>> fetch, CancellationToken stop)
{
    private readonly Lock _lock = new();

    /// <summary>The batch whose request is outstanding (null: none).</summary>
    private TaskCompletionSource<LeaderReadIndex>? _current;

    /// <summary>The batch waiting for the outstanding request to end (null: no read arrived since it was sent).</summary>
    private TaskCompletionSource<LeaderReadIndex>? _next;

    private long _rounds;

    /// <summary>Requests sent so far.</summary>
    public long Rounds => Interlocked.Read(ref _rounds);

    /// <summary>A read index requested after this call began.</summary>
    public Task<LeaderReadIndex> NextAsync(CancellationToken cancellationToken)
    {
        TaskCompletionSource<LeaderReadIndex> batch;
        var start = false;
        lock (_lock)
        {
            if (_current is null)
            {
                _current = batch = new TaskCompletionSource<LeaderReadIndex>(TaskCreationOptions.RunContinuationsAsynchronously);
                start = true;
            }
            else
            {
                batch = _next ??= new TaskCompletionSource<LeaderReadIndex>(TaskCreationOptions.RunContinuationsAsynchronously);
            }
        }

        if (start)
        {
            _ = RunAsync(batch);
        }

        return batch.Task.WaitAsync(cancellationToken);
    }

    /// <summary>Runs <paramref name="batch"/>'s request, then each batch that gathered meanwhile, one at a time.</summary>
    private async Task RunAsync(TaskCompletionSource<LeaderReadIndex> batch)
    {
        for (TaskCompletionSource<LeaderReadIndex>? b = batch; b is not null;)
        {
            Interlocked.Increment(ref _rounds);
            try
            {
                b.TrySetResult(await fetch(stop).ConfigureAwait(false));
            }
            catch (Exception e)
            {
                b.TrySetException(e);
                _ = b.Task.Exception; // observed: a batch whose reads all gave up has no one left to look
            }

            lock (_lock)
            {
                b = _current = _next;
                _next = null;
            }
        }
    }
}
