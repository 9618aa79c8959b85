using DotNext.Net.Cluster.Consensus.Raft;
using RaftKv.Replication.Api;
using RaftKv.Storage;

namespace RaftKv.Replication;

public sealed partial class KvNode
{
    public async ValueTask<KvEntry?> GetAsync(ReadOnlyMemory<byte> key, ReadConsistency consistency, CancellationToken cancellationToken = default)
    {
        if (key.IsEmpty || State.ReservedKeys.IsReserved(key.Span))
        {
            return null;
        }

        await BarrierAsync(consistency, cancellationToken).ConfigureAwait(false);
        return await _store.GetAsync(key, _state.LogicalClock, cancellationToken).ConfigureAwait(false);
    }

    public async Task<IReadOnlyList<KvEntry>> RangeAsync(ReadOnlyMemory<byte> start, ReadOnlyMemory<byte> end, int limit, ReadConsistency consistency, CancellationToken cancellationToken = default)
    {
        await BarrierAsync(consistency, cancellationToken).ConfigureAwait(false);
        var result = new List<KvEntry>();
        await foreach (var e in _store.ScanAsync(start, end, 0, _state.LogicalClock, cancellationToken).ConfigureAwait(false))
        {
            if (State.ReservedKeys.IsReserved(e.Key.Span))
            {
                continue;
            }

            result.Add(e);
            if (limit > 0 && result.Count >= limit)
            {
                break;
            }
        }

        return result;
    }

    public IAsyncEnumerable<WatchEvent> WatchAsync(byte[] key, byte[]? rangeEnd, bool prefix, long startIndex, CancellationToken cancellationToken = default)
    {
        var end = prefix ? KeyRanges.PrefixEnd(key) : rangeEnd ?? [];
        var single = !prefix && (rangeEnd is null || rangeEnd.Length == 0);
        bool Matches(byte[] k)
            => single
                ? k.AsSpan().SequenceEqual(key)
                : k.AsSpan().SequenceCompareTo(key) >= 0 && (end.Length == 0 || k.AsSpan().SequenceCompareTo(end) < 0);
        return _state.Watch.WatchAsync(Matches, startIndex, cancellationToken);
    }

    /// <summary>Read index: waits until this node has applied everything committed when the read began.</summary>
    private async ValueTask BarrierAsync(ReadConsistency consistency, CancellationToken cancellationToken)
    {
        if (consistency == ReadConsistency.Serializable)
        {
            return;
        }

        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, _stop.Token);
        timeout.CancelAfter(_options.OperationTimeout);
        try
        {
            await _cluster.ApplyReadBarrierAsync(ReadBarrierType.Strong, timeout.Token).ConfigureAwait(false);

            // A leader's commit index is only trustworthy once an entry of its own term has
            // committed (Raft §8). Right after an election the read index the barrier used may
            // predate it, so also wait until this node has applied an entry of the current term:
            // then everything committed before the read began is applied here.
            // Event-driven: each round waits for the applier to pass the next index, then re-checks.
            var term = _log.Term;
            for (var applied = _log.LastAppliedIndex; _state.TermAt(applied) < term; applied = _log.LastAppliedIndex)
            {
                await _log.WaitForAppliedAsync(applied + 1, timeout.Token).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw new UnavailableException("no quorum confirmed the read within the deadline");
        }
        catch (Exception e) when (e is QuorumUnreachableException or DotNext.Net.Cluster.MemberUnavailableException or InvalidOperationException)
        {
            throw new UnavailableException("linearizable read unavailable: " + e.Message, inner: e);
        }
    }
}
