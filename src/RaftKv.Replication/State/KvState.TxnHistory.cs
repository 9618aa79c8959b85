using RaftKv.Replication.Api;
using RaftKv.Storage;

namespace RaftKv.Replication.State;

/// <summary>
/// A Range with a revision inside a transaction (command format version 6, <see cref="Commands.CommandCodec.RangeRevisionVersion"/>):
/// etcd reads the history at that revision, after checking every range of the branch path against the revisions.
/// </summary>
/// <remarks>
/// <para><b>The check is deterministic</b> (<see cref="CheckRequests"/>): before any op runs, every range of the branch
/// path taken (nested txns included) must name a revision between the compact revision and the revision before the
/// txn, both replicated state; otherwise the whole txn fails on every replica alike (nothing but the clock applied),
/// with <see cref="FutureRevisionException"/> / <see cref="RevisionCompactedException"/>. As etcd's
/// <c>applierV3backend.Txn</c>, the puts' checks (ignore_value/ignore_lease targets, leases) come first.</para>
/// <para><b>The read is not part of the apply.</b> Its answer is not state, so only the proposer's node reads it, and
/// never on the apply path (old values may be archived in the object store): the apply pins the store's view (a scan's
/// first move, as <see cref="StateHasher"/> does; it never awaits) and the rest of the scan runs on a pool thread,
/// completed by the proposer after the apply (<c>KvNode.FinishHistoryReadsAsync</c>). History at a revision at or below
/// the revision before the txn is immutable, and the pinned view keeps every table it reads alive, so neither this txn's
/// writes, nor later ones, nor a compaction applied meanwhile (logical or physical) can change the answer.</para>
/// </remarks>
internal sealed partial class KvState
{
    /// <summary>etcd's <c>checkRequests</c> over the branch path taken (<paramref name="branch"/>, then each nested txn's
    /// branch from <see cref="TxnApply.Path"/>): the puts first, then the ranges' revisions.</summary>
    private void CheckRequests(TxnApply apply, IReadOnlyList<KvOp> branch)
    {
        var path = new List<KvOp>();
        Collect(apply, branch, path);
        foreach (var op in path)
        {
            if (op.Kind != KvOpKind.Put)
            {
                continue;
            }

            if ((op.IgnoreValue || op.IgnoreLease) && apply.Meta(op.Key) is null)
            {
                throw new KeyNotFoundForIgnoreException(op.Key);
            }

            CheckLease(op.Lease);
        }

        var compacted = CompactRevision;
        foreach (var op in path)
        {
            if (op is not { Kind: KvOpKind.Range, Range.Revision: var revision and not 0 })
            {
                continue;
            }

            if (revision > apply.BaseRevision)
            {
                throw new FutureRevisionException(revision, apply.BaseRevision);
            }

            if (revision < compacted)
            {
                throw new RevisionCompactedException(revision, compacted);
            }
        }

        static void Collect(TxnApply apply, IReadOnlyList<KvOp> ops, List<KvOp> into)
        {
            foreach (var op in ops)
            {
                if (op is { Kind: KvOpKind.Txn, Nested: { } nested })
                {
                    // Decided up front for a txn with nested ones (format ≥ 4); each nested txn on the path is in it.
                    if (apply.Path is { } decided && decided.TryGetValue(nested, out var success))
                    {
                        Collect(apply, success ? nested.Success : nested.Failure, into);
                    }

                    continue;
                }

                into.Add(op);
            }
        }
    }

    /// <summary>A range at <see cref="RangeRequest.Revision"/> (checked by <see cref="CheckRequests"/>: it is at or
    /// below the revision before the txn and not compacted). The result answered on every replica is empty; on the
    /// proposer's node the history read is started (its view pinned now) and completes the result after the apply.</summary>
    private OpResult RangeAtRevision(TxnApply apply, RangeRequest request)
    {
        var readRevision = apply.ReadRevision; // etcd's header: the revision the txn reads at, not the one asked
        var result = new OpResult(Range: new RangeResult([], false, 0, readRevision));
        if (apply.Holder is { } holder)
        {
            holder.AddHistoryRead(result, StartHistoryRange(request, readRevision, apply.Clock, holder.HistoryReadToken));
        }

        return result;
    }

    /// <summary>Starts reading <paramref name="request"/> at its revision from the history: pins the store's view
    /// synchronously (the scan's first move, which never awaits) and completes on a pool thread. Never throws: a failure
    /// (a local read error, cancellation) is the task's.</summary>
    internal Task<RangeResult> StartHistoryRange(RangeRequest request, long readRevision, long clock, CancellationToken token)
    {
        if (token.IsCancellationRequested)
        {
            return Task.FromCanceled<RangeResult>(token);
        }

        var (start, end, single) = RangeBounds.Of(request.Key, request.RangeEnd);
        var (from, to) = single ? (MvccLayout.HistoryKey(start, request.Revision), MvccLayout.HistoryKey(start, 0)) : MvccLayout.HistoryRange(start, end);
        IAsyncEnumerator<KvEntry>? scan = null;
        try
        {
            scan = _store.ScanAsync(from, to, single ? 1 : 0, clock, token).GetAsyncEnumerator(token);
            var first = scan.MoveNextAsync().AsTask(); // pins the view as of now (never awaited here)
            var pinned = scan;
            return Task.Run(() => FinishHistoryRangeAsync(pinned, first, request, readRevision, clock), CancellationToken.None);
        }
        catch (Exception e)
        {
            _ = scan?.DisposeAsync().AsTask();
            return Task.FromException<RangeResult>(e);
        }
    }

    private static async Task<RangeResult> FinishHistoryRangeAsync(IAsyncEnumerator<KvEntry> scan, Task<bool> first, RangeRequest request, long readRevision, long clock)
    {
        await using (scan.ConfigureAwait(false))
        {
            var limit = HistoryScanLimit(request);
            var kvs = new List<KeyValue>();
            long count = 0;
            await foreach (var kv in NewestAtAsync(scan, first, request.Revision, clock).ConfigureAwait(false))
            {
                count++;
                if (limit == 0 || kvs.Count < limit)
                {
                    kvs.Add(NeedsValues(request) ? kv : kv with { Value = ReadOnlyMemory<byte>.Empty });
                }
            }

            return RangeProcessor.Apply(kvs, request, readRevision, count);
        }
    }
}
