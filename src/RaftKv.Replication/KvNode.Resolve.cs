using RaftKv.Replication.Api;
using RaftKv.Replication.Commands;
using RaftKv.Replication.State;
using RaftKv.Storage;

namespace RaftKv.Replication;

/// <remarks>
/// The proposer's half of "apply never waits on S3" (docs/architecture.md): before proposing a
/// transaction, the leader reads what the apply will not — the values a value compare tests (it
/// proposes the outcome with the version it saw, <see cref="ResolvedCompare"/>) and the values
/// prev_kv and txn Get ops return (kept locally for its own apply, <see cref="ApplyResult.PreRead"/>).
/// Those reads may need the object store; they run here, on this request only, bounded by the
/// operation timeout, and when the store is unreachable the write is refused before anything is
/// proposed (<see cref="RemoteTierUnavailableException"/>, 503). A stale resolution comes back as a
/// conflict and is resolved and proposed again.
/// </remarks>
public sealed partial class KvNode
{
    /// <summary>Proposals of one transaction whose value compares kept going stale before it is refused.</summary>
    private const int MaxConflictAttempts = 5;

    /// <summary>The feature a member lists when it applies <see cref="CommandCodec.TxnPathVersion"/> txns (nested
    /// compares against the state before the txn, as etcd): a leader writes that version only when every member lists it.</summary>
    internal const string FeatureTxnPath = "txn-path";

    /// <summary>The feature a member lists when it applies <see cref="CommandCodec.ValueOnceVersion"/> txns (large values
    /// kept once, MVCC layout version 3): a leader writes that version only when every member lists it. A release
    /// listing it lists <see cref="FeatureTxnPath"/> too (version 5 includes version 4's rule).</summary>
    internal const string FeatureValueOnce = "value-once";

    /// <summary>The feature a member lists when it applies <see cref="CommandCodec.RangeRevisionVersion"/> txns (a range
    /// inside a txn reads the history at its revision, as etcd): a leader proposes a txn with such a range only when every
    /// member lists it. A release listing it lists <see cref="FeatureValueOnce"/> too (version 6 includes version 5's rules).</summary>
    internal const string FeatureTxnRangeRevision = "txn-range-revision";

    private async Task<TxnResult> ProposeTxnAsync(KvTxn txn, CancellationToken cancellationToken)
    {
        var readsHistory = ReadsHistory(txn);
        if (readsHistory && IsLeader && !EveryMemberSupports(FeatureTxnRangeRevision))
        {
            // An older member would read such a range at the txn's revision and apply writes this release refuses.
            throw new ArgumentException($"a range with a revision inside a transaction needs every member to list the {FeatureTxnRangeRevision} feature (a rolling upgrade is not finished); read history with a plain range");
        }

        for (var attempt = 1; ; attempt++)
        {
            IReadOnlyList<ResolvedCompare?>? resolved = null;
            IReadOnlyList<KeyValue> preRead = [];
            var proposed = txn;
            if (IsLeader && NeedsResolution(txn))
            {
                (proposed, resolved, preRead) = await ResolveAsync(txn, cancellationToken).ConfigureAwait(false);
            }

            using var historyReads = readsHistory ? new CancellationTokenSource() : null;
            var holder = new ApplyResult { PreRead = preRead, HistoryReadToken = historyReads?.Token ?? CancellationToken.None };
            var command = new KvCommand(CommandKind.Txn, NextTimestamp(), txn.RequestId, proposed, resolved)
            {
                FormatVersion = readsHistory ? CommandCodec.RangeRevisionVersion
                    : EveryMemberSupports(FeatureValueOnce) ? CommandCodec.ValueOnceVersion
                    : EveryMemberSupports(FeatureTxnPath) ? CommandCodec.TxnPathVersion
                    : CommandCodec.CurrentVersion,
            };
            TxnResult result;
            try
            {
                result = await ProposeAsync(command, cancellationToken, holder).ConfigureAwait(false);
                if (holder.HistoryReads is { Count: > 0 } reads && !holder.Conflict)
                {
                    result = await FinishHistoryReadsAsync(result, reads, cancellationToken).ConfigureAwait(false);
                }
            }
            finally
            {
                historyReads?.Cancel(); // an abandoned read (timeout, conflict) releases the store view it pinned
            }

            if (holder.ValueMissing)
            {
                throw new UnavailableException($"the write committed at index {result.Index}, but a previous or read value it returns changed after it was read and is now only in the object store; it was not waited for", outcomeUnknown: true);
            }

            if (!holder.Conflict)
            {
                Interlocked.Exchange(ref _lastWriteTicks, Environment.TickCount64); // the idle tick waits (KvNode.Background.cs)
                return result;
            }

            if (attempt >= MaxConflictAttempts)
            {
                throw new UnavailableException($"a compared value kept changing between its read and the apply ({attempt} attempts); nothing was applied");
            }
        }
    }

    /// <summary>Resolves the value compares and ignore_value puts and pre-reads the values results
    /// return (prev_kv, Get, Range) of <paramref name="txn"/>, nested txns included.</summary>
    private async ValueTask<(KvTxn Txn, IReadOnlyList<ResolvedCompare?>? Resolved, IReadOnlyList<KeyValue> PreRead)> ResolveAsync(KvTxn txn, CancellationToken cancellationToken)
    {
        var compares = KvCommand.AllCompares(txn).ToList();
        ResolvedCompare?[]? resolved = null;
        for (var i = 0; i < compares.Count; i++)
        {
            var c = compares[i];
            if (c.Target != CompareTarget.Value)
            {
                continue;
            }

            resolved ??= new ResolvedCompare?[compares.Count];
            if (c.IsRange)
            {
                var (start, end, _) = RangeBounds.Of(c.Key, c.RangeEnd);
                var (kvs, revision) = await ReadForProposalAsync(start, end, false, cancellationToken).ConfigureAwait(false);
                resolved[i] = new ResolvedCompare(revision, kvs.Count > 0 && kvs.TrueForAll(kv => KvState.ValueHolds(c, kv.Value)));
            }
            else
            {
                var (kvs, _) = await ReadForProposalAsync(c.Key, [], true, cancellationToken).ConfigureAwait(false);
                var kv = kvs.Count > 0 ? kvs[0] : (KeyValue?)null;
                resolved[i] = new ResolvedCompare(kv?.ModRevision ?? 0, KvState.ValueHolds(c, kv?.Value));
            }
        }

        var preRead = new List<KeyValue>();
        var proposed = await ResolveOpsAsync(txn, preRead, cancellationToken).ConfigureAwait(false);
        return (proposed, resolved, preRead);
    }

    private async ValueTask<KvTxn> ResolveOpsAsync(KvTxn txn, List<KeyValue> preRead, CancellationToken cancellationToken)
    {
        async ValueTask<List<KvOp>> Branch(IReadOnlyList<KvOp> ops)
        {
            var result = new List<KvOp>(ops.Count);
            foreach (var op in ops)
            {
                var resolvedOp = op;
                switch (op.Kind)
                {
                    case KvOpKind.Txn when op.Nested is { } nested:
                        resolvedOp = op with { Nested = await ResolveOpsAsync(nested, preRead, cancellationToken).ConfigureAwait(false) };
                        break;
                    case KvOpKind.Put when op.IgnoreValue || op.PrevKv:
                        var (current, _) = await ReadForProposalAsync(op.Key, [], true, cancellationToken).ConfigureAwait(false);
                        preRead.AddRange(current);
                        if (op.IgnoreValue && current.Count > 0)
                        {
                            resolvedOp = op with { Value = current[0].Value.ToArray(), ResolvedMod = current[0].ModRevision };
                        }

                        break;
                    case KvOpKind.Get:
                    case KvOpKind.Delete when op.PrevKv:
                        preRead.AddRange((await ReadForProposalAsync(op.Key, [], true, cancellationToken).ConfigureAwait(false)).Kvs);
                        break;
                    case KvOpKind.DeleteRange when op.PrevKv:
                        var (start, end, single) = KvState.DeleteBounds(op);
                        preRead.AddRange((await ReadForProposalAsync(start, end, single, cancellationToken).ConfigureAwait(false)).Kvs);
                        break;
                    case KvOpKind.Range when op.Range is { Revision: 0 } range && KvState.NeedsValues(range): // at a revision: read after the apply
                        var (rs, re, rsingle) = RangeBounds.Of(range.Key, range.RangeEnd);
                        preRead.AddRange((await ReadForProposalAsync(rs, re, rsingle, cancellationToken).ConfigureAwait(false)).Kvs);
                        break;
                }

                result.Add(resolvedOp);
            }

            return result;
        }

        return txn with { Success = await Branch(txn.Success).ConfigureAwait(false), Failure = await Branch(txn.Failure).ConfigureAwait(false) };
    }

    /// <summary>Whether a Range op of <paramref name="txn"/> (either branch, nested txns included) names a revision.</summary>
    internal static bool ReadsHistory(KvTxn txn)
    {
        return Any(txn.Success) || Any(txn.Failure);

        static bool Any(IReadOnlyList<KvOp> ops)
        {
            foreach (var op in ops)
            {
                if (op is { Kind: KvOpKind.Range, Range.Revision: not 0 } || (op.Nested is { } n && ReadsHistory(n)))
                {
                    return true;
                }
            }

            return false;
        }
    }

    /// <summary>Completes the history reads the apply started for the ranges with a revision (<see cref="ApplyResult.HistoryReads"/>:
    /// each pinned the store's view when the entry was applied, so a compaction since cannot change what it reads) and
    /// puts their answers into <paramref name="result"/>. They may need the object store; bounded by the operation timeout.
    /// The transaction has committed: a read that fails makes its outcome unknown to the caller.</summary>
    private async Task<TxnResult> FinishHistoryReadsAsync(TxnResult result, IReadOnlyList<(OpResult Placeholder, Task<RangeResult> Read)> reads, CancellationToken cancellationToken)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, _stop.Token);
        timeout.CancelAfter(_options.OperationTimeout);
        var answers = new Dictionary<OpResult, RangeResult>(ReferenceEqualityComparer.Instance);
        try
        {
            foreach (var (placeholder, read) in reads)
            {
                answers[placeholder] = await read.WaitAsync(timeout.Token).ConfigureAwait(false);
            }
        }
        catch (Exception e) when (e is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            throw new UnavailableException($"the transaction committed at index {result.Index}, but the history a range of it reads could not be read ({e.Message})", outcomeUnknown: true, e);
        }

        return WithAnswers(result, answers);

        static TxnResult WithAnswers(TxnResult r, Dictionary<OpResult, RangeResult> answers)
            => r with
            {
                Results = r.Results.Select(o => answers.TryGetValue(o, out var range) ? o with { Range = range }
                    : o.Nested is { } nested ? o with { Nested = WithAnswers(nested, answers) }
                    : o).ToList(),
            };
    }

    /// <summary>Whether <paramref name="txn"/> has a value compare, an ignore_value put or an op returning
    /// a value (most writes have none and skip <see cref="ResolveAsync"/>).</summary>
    private static bool NeedsResolution(KvTxn txn)
    {
        foreach (var c in txn.Compares)
        {
            if (c.Target == CompareTarget.Value)
            {
                return true;
            }
        }

        return AnyNeedsValue(txn.Success) || AnyNeedsValue(txn.Failure);

        static bool AnyNeedsValue(IReadOnlyList<KvOp> ops)
        {
            foreach (var op in ops)
            {
                if (op.Kind is KvOpKind.Get or KvOpKind.Range || op.PrevKv || op.IgnoreValue || (op.Nested is { } n && NeedsResolution(n)))
                {
                    return true;
                }
            }

            return false;
        }
    }

    /// <summary>Whether every voting member advertises <paramref name="feature"/> (learners are not asked: a
    /// learner on an older release refuses what it cannot apply and stops, it never applies it differently).</summary>
    private bool EveryMemberSupports(string feature) => VotersWithout(feature).Count == 0;

    /// <summary>The voting members that do not advertise <paramref name="feature"/> (or whose metadata is not fetched yet: id 0).</summary>
    private List<(long Id, string Grpc, string Http, string Features)> VotersWithout(string feature)
        => _cluster.Members.Select(MetaOf).Where(m => !m.Features.Split(',').Contains(feature, StringComparer.Ordinal)).ToList();

    /// <summary>The live keys of a range (or one key) with values and metadata, consistent at one revision:
    /// from this node when it has the values, else from the object store (bounded by the operation timeout).</summary>
    private async ValueTask<(List<KeyValue> Kvs, long Revision)> ReadForProposalAsync(byte[] start, byte[] end, bool single, CancellationToken cancellationToken)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, _stop.Token);
        timeout.CancelAfter(_options.OperationTimeout);
        try
        {
            var (kvs, _, revision) = await _state.ReadCurrentOrHistoryAsync(start, end, single, true, 0, timeout.Token).ConfigureAwait(false);
            return (kvs, revision);
        }
        catch (RemoteTierUnavailableException e)
        {
            throw new RemoteTierUnavailableException($"this transaction compares or returns a value that is only in the object store, which is unreachable; nothing was proposed ({e.Message})", e);
        }
        catch (OperationCanceledException e) when (!cancellationToken.IsCancellationRequested)
        {
            throw new RemoteTierUnavailableException("this transaction compares or returns a value that is only in the object store, which did not answer within the deadline; nothing was proposed", e);
        }
    }
}
