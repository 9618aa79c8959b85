using RaftKv.Replication.Api;
using RaftKv.Server.Etcd.Concurrency;

namespace RaftKv.Server.Tests;

/// <summary>
/// The writes of a Lock call (<see cref="IConcurrencyWriter"/>) applied on a real node that leads, except that the next
/// deletes fail first with the errors queued by <see cref="FailNextDeletes"/> — what a delete meets on a loaded cluster
/// (a proposal that timed out with its outcome unknown, a forwarded call the leader did not answer in time, a leader
/// change) — or a refusal. Every delete try is counted.
/// </summary>
internal sealed class FailingDeletesWriter(IKvNode node) : IConcurrencyWriter
{
    private readonly Queue<Exception> _failures = new(); // guarded by itself
    private int _deleteTries;

    /// <summary>Delete tries so far (failed or applied).</summary>
    public int DeleteTries => Volatile.Read(ref _deleteTries);

    /// <summary>Other writes (a candidate's create) that have returned to their caller's await.</summary>
    public int OtherWritesDone => Volatile.Read(ref _otherWritesDone);

    private int _otherWritesDone;

    /// <summary>Runs once, before the next queued failure is thrown: what the cluster did meanwhile (e.g. the failed
    /// try was applied after all, and another call wrote the key again).</summary>
    public Func<Task>? BeforeNextFailure { get; set; }

    /// <summary>The next deletes throw these, one each, in order; later ones are applied.</summary>
    public void FailNextDeletes(params Exception[] failures)
    {
        lock (_failures)
        {
            foreach (var f in failures)
            {
                _failures.Enqueue(f);
            }
        }
    }

    public async Task<TxnResult> WriteAsync(KvTxn txn, bool idempotent, CancellationToken cancellationToken)
    {
        if (!txn.Success.Any(op => op.Kind == KvOpKind.Delete))
        {
            var result = await node.WriteAsync(txn, cancellationToken).ConfigureAwait(false);
            Interlocked.Increment(ref _otherWritesDone);
            return result;
        }

        Interlocked.Increment(ref _deleteTries);
        Exception? failure;
        lock (_failures)
        {
            _failures.TryDequeue(out failure);
        }

        if (failure is not null)
        {
            if (BeforeNextFailure is { } before)
            {
                BeforeNextFailure = null;
                await before().ConfigureAwait(false);
            }

            throw failure;
        }

        return await node.WriteAsync(txn, cancellationToken).ConfigureAwait(false);
    }

    public async Task<long> LeaseGrantAsync(long ttlSeconds, CancellationToken cancellationToken)
        => (await node.LeaseGrantAsync(0, ttlSeconds, cancellationToken).ConfigureAwait(false)).Id;
}
