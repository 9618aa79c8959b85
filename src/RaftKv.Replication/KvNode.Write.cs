using RaftKv.Replication.Api;
using RaftKv.Replication.Commands;
using RaftKv.Replication.Diagnostics;
using RaftKv.Replication.State;
using RaftKv.Storage.IO;
using DotNextNotLeader = DotNext.Net.Cluster.Consensus.Raft.NotLeaderException;

namespace RaftKv.Replication;

public sealed partial class KvNode
{
    /// <summary>Proposals appended and not yet ended (Interlocked): <see cref="NodeStatus.ProposalsPending"/>.</summary>
    private long _proposalsPending;

    /// <summary>Proposals that ended with an unknown outcome (Interlocked): <see cref="NodeStatus.ProposalsFailed"/>.</summary>
    private long _proposalsFailed;

    public Task<TxnResult> WriteAsync(KvTxn txn, CancellationToken cancellationToken = default)
    {
        try
        {
            Validate(txn);
        }
        catch (Exception e)
        {
            return Task.FromException<TxnResult>(e); // as from an async method: callers see a faulted task
        }

        return ProposeTxnAsync(txn, cancellationToken); // records _lastWriteTicks once the write is applied
    }

    private async Task<TxnResult> ProposeAsync(KvCommand command, CancellationToken cancellationToken, ApplyResult? holder = null)
    {
        ThrowIfLearner(); // KvNode.Learners.cs
        if (!IsLeader)
        {
            _metrics.Proposals.Add(1, new KeyValuePair<string, object?>("outcome", "not_leader"));
            throw new NotLeaderException(GetStatus().Leader);
        }

        AdmitSpace(command); // KvNode.Space.cs: the NOSPACE alarm and this node's own space
        if (_log.DiskFull is { } full && SpaceRule.AddsData(command))
        {
            // Refused at once: appending would only queue the entry behind a log that cannot be written.
            // What frees space (deletes, compaction, alarms) still goes: the log writes it into the reserve.
            _metrics.Proposals.Add(1, new KeyValuePair<string, object?>("outcome", "no_space"));
            throw new DiskFullException($"the leader's Raft log is out of disk space (no space left on device); writes resume once space is freed ({full.Message})", full);
        }

        holder ??= new ApplyResult();
        var entry = new KvLogEntry(CommandCodec.Encode(command), _log.Term) { Context = holder };
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, _stop.Token);
        timeout.CancelAfter(_options.OperationTimeout);
        Interlocked.Increment(ref _proposalsStarted);
        Interlocked.Increment(ref _proposalsPending);
        try
        {
            await _cluster.ReplicateAsync(entry, timeout.Token).ConfigureAwait(false);
            var result = await holder.Task.WaitAsync(timeout.Token).ConfigureAwait(false);
            RoundTrace.Mark(RoundTrace.Point.Completed, result.Index);
            _metrics.Proposals.Add(1, new KeyValuePair<string, object?>("outcome", "ok"));
            return result;
        }
        catch (DotNextNotLeader e)
        {
            // Leadership was lost after the entry was appended: it may still commit under the new
            // leader, so the outcome is unknown (clients retry with the same request id).
            _metrics.Proposals.Add(1, new KeyValuePair<string, object?>("outcome", "lost_leadership"));
            Interlocked.Increment(ref _proposalsFailed);
            throw new UnavailableException("leadership changed while the write was in flight; it may still commit", outcomeUnknown: true, e);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            _metrics.Proposals.Add(1, new KeyValuePair<string, object?>("outcome", "timeout"));
            Interlocked.Increment(ref _proposalsFailed);
            throw new UnavailableException("the write was not committed within the deadline (no quorum?); it may still commit", outcomeUnknown: true);
        }
        catch (Exception e) when (e is DotNext.Net.Cluster.Consensus.Raft.QuorumUnreachableException or DotNext.Net.Cluster.MemberUnavailableException)
        {
            _metrics.Proposals.Add(1, new KeyValuePair<string, object?>("outcome", "unavailable"));
            Interlocked.Increment(ref _proposalsFailed);
            throw new UnavailableException(e.Message, outcomeUnknown: true, e);
        }
        finally
        {
            if (Interlocked.Decrement(ref _proposalsPending) == 0)
            {
                _commitBroadcastOwed.Set(); // KvNode.CommitBroadcast.cs
            }
        }
    }

    /// <summary>Leader timestamps are strictly increasing and never behind the logical clock.</summary>
    private long NextTimestamp()
    {
        var now = Math.Max(_options.TimeProvider.GetUtcNow().ToUnixTimeMilliseconds(), _state.LogicalClock);
        while (true)
        {
            var last = Interlocked.Read(ref _lastProposalTs);
            var next = Math.Max(now, last + 1);
            if (Interlocked.CompareExchange(ref _lastProposalTs, next, last) == last)
            {
                return next;
            }
        }
    }

    private void Validate(KvTxn txn)
    {
        if (txn.RequestId is { Length: > 64 })
        {
            throw new ArgumentException("request id longer than 64 characters");
        }

        ValidateTxn(txn, _options.MaxTxnOps);
        TxnDuplicates.Check(txn);
    }

    /// <summary>Checks <paramref name="txn"/> against <paramref name="max"/> ops per compare list and branch; a nested
    /// txn gets what its parent left: <paramref name="max"/> minus the parent's largest list (etcd's checkTxnRequest).</summary>
    private void ValidateTxn(KvTxn txn, int max)
    {
        var ops = Math.Max(txn.Compares.Count, Math.Max(txn.Success.Count, txn.Failure.Count));
        if (ops > max)
        {
            throw new TooManyTxnOpsException(ops, max);
        }

        foreach (var c in txn.Compares)
        {
            ValidateKey(c.Key, written: false); // a range_end below the key compares over no key (etcd; RangeBounds.Of)
        }

        foreach (var op in txn.Success.Concat(txn.Failure))
        {
            switch (op.Kind)
            {
                case KvOpKind.Txn:
                    ValidateTxn(op.Nested ?? throw new ArgumentException("txn op without a transaction"), max - ops);
                    continue;
                case KvOpKind.Range:
                    var range = op.Range ?? throw new ArgumentException("range op without a range request");
                    ValidateRange(range); // a revision reads the history (checked against the revisions at apply, as etcd)
                    ValidateKey(range.Key, written: false);
                    continue;
                case KvOpKind.DeleteRange when op.Key.Length == 0 && (op.Prefix || op.RangeEnd is not { Length: > 0 }):
                    if (!op.AllKeys)
                    {
                        throw new WholeKeyspaceDeleteException();
                    }

                    continue;
            }

            ValidateKey(op.Key, written: op.Kind == KvOpKind.Put);
            if (op.Kind == KvOpKind.Put && (op.Value?.Length ?? 0) > _options.MaxValueBytes)
            {
                throw new ValueTooLargeException($"value is {op.Value!.Length} bytes; the limit is {_options.MaxValueBytes}");
            }

            // A negative lease id is no bad input here: no such lease is ever granted, so the apply answers
            // LeaseNotFoundException, as etcd answers a put with an unknown lease.
            if (op.Lease != 0 && (op.Kind != KvOpKind.Put || op.TtlMs != 0))
            {
                throw new ArgumentException("a lease is attached by a put without a ttl (a leased key expires with its lease)");
            }

            if (op.Kind == KvOpKind.Put && op.IgnoreValue && op.Value is { Length: > 0 })
            {
                throw new ArgumentException("value is provided (ignore_value keeps the current value)");
            }

            if (op.Kind == KvOpKind.Put && op.IgnoreLease && op.Lease != 0)
            {
                throw new ArgumentException("lease is provided (ignore_lease keeps the current lease)");
            }

            if (op.TtlMs is < 0 or > KvOp.MaxTtlSeconds * 1000)
            {
                throw new ArgumentException($"ttl must be between 0 and {KvOp.MaxTtlSeconds} seconds");
            }
        }
    }

    /// <summary>A key of a txn's compare or op: not empty nor reserved. <see cref="KvNodeOptions.MaxKeyBytes"/> bounds
    /// only a key the op <paramref name="written"/> (a put): a compare, a read or a delete of a longer key is
    /// answered as etcd answers it (no such key), as a plain read is; a key written before the limit was lowered
    /// can still be deleted.</summary>
    private void ValidateKey(byte[] key, bool written)
    {
        if (key.Length == 0)
        {
            throw new ArgumentException("key must not be empty");
        }

        if (written && key.Length > _options.MaxKeyBytes)
        {
            throw new ValueTooLargeException($"key is {key.Length} bytes; the limit is {_options.MaxKeyBytes}");
        }

        if (ReservedKeys.IsReserved(key))
        {
            throw new ArgumentException("keys starting with 0x00 0xFF are reserved");
        }
    }
}
