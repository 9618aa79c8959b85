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

    private async Task<TxnResult> ProposeTxnAsync(KvTxn txn, CancellationToken cancellationToken)
    {
        for (var attempt = 1; ; attempt++)
        {
            IReadOnlyList<ResolvedCompare?>? resolved = null;
            IReadOnlyList<KvEntry> preRead = [];
            if (IsLeader && NeedsResolution(txn))
            {
                (resolved, preRead) = await ResolveAsync(txn, cancellationToken).ConfigureAwait(false);
            }

            var holder = new ApplyResult { PreRead = preRead };
            var result = await ProposeAsync(new KvCommand(CommandKind.Txn, NextTimestamp(), txn.RequestId, txn, resolved), cancellationToken, holder).ConfigureAwait(false);
            if (holder.ValueMissing)
            {
                throw new UnavailableException($"the write committed at index {result.Index}, but a previous or read value it returns changed after it was read and is now only in the object store; it was not waited for", outcomeUnknown: true);
            }

            if (!holder.Conflict)
            {
                return result;
            }

            if (attempt >= MaxConflictAttempts)
            {
                throw new UnavailableException($"a compared value kept changing between its read and the apply ({attempt} attempts); nothing was applied");
            }
        }
    }

    /// <summary>Resolves the value compares and pre-reads the prev_kv/Get values of <paramref name="txn"/>.</summary>
    private async ValueTask<(IReadOnlyList<ResolvedCompare?>? Resolved, IReadOnlyList<KvEntry> PreRead)> ResolveAsync(KvTxn txn, CancellationToken cancellationToken)
    {
        var clock = _state.LogicalClock;
        ResolvedCompare?[]? resolved = null;
        for (var i = 0; i < txn.Compares.Count; i++)
        {
            var c = txn.Compares[i];
            if (c.Target != CompareTarget.Value)
            {
                continue;
            }

            resolved ??= new ResolvedCompare?[txn.Compares.Count];
            var entry = await ReadForProposalAsync(c.Key, clock, cancellationToken).ConfigureAwait(false);
            resolved[i] = new ResolvedCompare(entry?.Version ?? 0, KvState.ValueHolds(c, entry?.Value));
        }

        List<KvEntry>? preRead = null;
        foreach (var op in txn.Success.Concat(txn.Failure))
        {
            if (NeedsValue(op) && await ReadForProposalAsync(op.Key, clock, cancellationToken).ConfigureAwait(false) is { } e)
            {
                (preRead ??= []).Add(e);
            }
        }

        return (resolved, (IReadOnlyList<KvEntry>?)preRead ?? []);
    }

    /// <summary>Whether <paramref name="txn"/> has a value compare or an op returning a value (most
    /// writes have neither and skip <see cref="ResolveAsync"/>).</summary>
    private static bool NeedsResolution(KvTxn txn)
    {
        for (var i = 0; i < txn.Compares.Count; i++)
        {
            if (txn.Compares[i].Target == CompareTarget.Value)
            {
                return true;
            }
        }

        return AnyNeedsValue(txn.Success) || AnyNeedsValue(txn.Failure);

        static bool AnyNeedsValue(IReadOnlyList<KvOp> ops)
        {
            for (var i = 0; i < ops.Count; i++)
            {
                if (NeedsValue(ops[i]))
                {
                    return true;
                }
            }

            return false;
        }
    }

    private static bool NeedsValue(KvOp op) => op.Kind == KvOpKind.Get || (op.PrevKv && op.Kind is KvOpKind.Put or KvOpKind.Delete);

    /// <summary>The live entry of <paramref name="key"/>: from this node when it has the value, else
    /// from the object store (bounded by the operation timeout).</summary>
    private async ValueTask<KvEntry?> ReadForProposalAsync(byte[] key, long clock, CancellationToken cancellationToken)
    {
        if (_store.GetMetadata(key, clock) is not { } m)
        {
            return null;
        }

        if (m.LocalValue is { } v)
        {
            return new KvEntry(key, v, m.Version, m.ExpiresAtUnixMs, m.Tier);
        }

        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, _stop.Token);
        timeout.CancelAfter(_options.OperationTimeout);
        try
        {
            return await _store.GetAsync(key, clock, timeout.Token).ConfigureAwait(false);
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
