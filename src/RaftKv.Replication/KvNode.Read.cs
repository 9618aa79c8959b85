using System.Runtime.CompilerServices;
using DotNext.Net.Cluster.Consensus.Raft;
using RaftKv.Replication.Api;
using RaftKv.Storage;

namespace RaftKv.Replication;

public sealed partial class KvNode
{
    /// <summary>How often a linearizable read polls for a leader during an election.</summary>
    private static readonly TimeSpan NoLeaderPoll = TimeSpan.FromMilliseconds(20);

    /// <summary>Native point read; the entry's <see cref="KvEntry.Version"/> is the key's mod revision.</summary>
    public async ValueTask<KvEntry?> GetAsync(ReadOnlyMemory<byte> key, ReadConsistency consistency, CancellationToken cancellationToken = default)
    {
        if (key.IsEmpty || State.ReservedKeys.IsReserved(key.Span))
        {
            return null;
        }

        await BarrierAsync(consistency, cancellationToken).ConfigureAwait(false);
        var (kvs, _, _) = await _state.ReadCurrentOrHistoryAsync(key.ToArray(), [], true, true, 0, cancellationToken).ConfigureAwait(false);
        return kvs.Count > 0 ? State.KvState.ToEntry(kvs[0]) : null;
    }

    /// <summary>Native range read (empty end = unbounded); versions are mod revisions.</summary>
    public async Task<IReadOnlyList<KvEntry>> RangeAsync(ReadOnlyMemory<byte> start, ReadOnlyMemory<byte> end, int limit, ReadConsistency consistency, CancellationToken cancellationToken = default)
    {
        await BarrierAsync(consistency, cancellationToken).ConfigureAwait(false);
        var (kvs, _, _) = await _state.ReadCurrentOrHistoryAsync(start.ToArray(), end.ToArray(), false, true, Math.Max(limit, 0), cancellationToken).ConfigureAwait(false);
        return kvs.ConvertAll(kv => State.KvState.ToEntry(kv)!.Value);
    }

    /// <summary>Native watch over <see cref="WatchRevisionsAsync"/>: one event per change, versions are
    /// mod revisions (a delete's is its revision), <paramref name="startIndex"/> is a start revision.</summary>
    public async IAsyncEnumerable<WatchEvent> WatchAsync(byte[] key, byte[]? rangeEnd, bool prefix, long startIndex, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        byte[]? end = prefix ? KeyRanges.PrefixEnd(key) is { Length: > 0 } pe ? pe : [0x00]
            : rangeEnd is { Length: > 0 } ? rangeEnd
            : null;
        var from = prefix && key.Length == 0 ? [0x00] : key;
        await foreach (var batch in WatchRevisionsAsync(from, end, startIndex, false, cancellationToken).ConfigureAwait(false))
        {
            foreach (var e in batch)
            {
                yield return new WatchEvent(e.Type == MvccEventType.Delete, State.KvState.ToEntry(e.Kv)!.Value);
            }
        }
    }

    public ValueTask ReadBarrierAsync(CancellationToken cancellationToken = default)
        => BarrierAsync(ReadConsistency.Linearizable, cancellationToken);

    public ValueTask WaitForAppliedAsync(long index, CancellationToken cancellationToken)
        => _log.LastAppliedIndex >= index ? ValueTask.CompletedTask : _log.WaitForAppliedAsync(index, cancellationToken);

    /// <summary>Read index: waits until this node has applied everything committed when the read began.</summary>
    private async ValueTask BarrierAsync(ReadConsistency consistency, CancellationToken cancellationToken)
    {
        if (consistency == ReadConsistency.Serializable)
        {
            return;
        }

        ThrowIfLearner(); // KvNode.Learners.cs: a learner has no read index (it is not in the configuration)
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, _stop.Token);
        timeout.CancelAfter(_options.OperationTimeout);
        try
        {
            if (TryLeaseReadIndex(out var leaseIndex))
            {
                // KvNode.ReadLease.cs: the leader's commit index needs no quorum round while its lease lasts.
                if (_log.LastAppliedIndex < leaseIndex)
                {
                    await _log.WaitForAppliedAsync(leaseIndex, timeout.Token).ConfigureAwait(false);
                }
            }
            else if (await TryFollowerReadIndexAsync(timeout.Token).ConfigureAwait(false) is { } index)
            {
                // KvNode.FollowerReadIndex.cs: the leader's read index over Cluster/ReadIndex (from its lease when valid).
                if (_log.LastAppliedIndex < index)
                {
                    await _log.WaitForAppliedAsync(index, timeout.Token).ConfigureAwait(false);
                }
            }
            else
            {
                await ReadIndexAsync(timeout.Token).ConfigureAwait(false);
            }

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

    /// <summary>
    /// DotNext's strong read barrier, retried while no leader can answer it: during an election a
    /// follower knows no leader (<see cref="QuorumUnreachableException"/>) or still names the one that
    /// died (<see cref="DotNext.Net.Cluster.MemberUnavailableException"/>). Like etcd's read index,
    /// the read waits for the next leader until <paramref name="token"/> (the operation's deadline)
    /// fires, instead of failing at once while a client's retry would succeed a moment later.
    /// </summary>
    private async ValueTask ReadIndexAsync(CancellationToken token)
    {
        while (true)
        {
            try
            {
                await StrongBarrierAsync(token).ConfigureAwait(false);
                return;
            }
            catch (Exception e) when (e is QuorumUnreachableException or DotNext.Net.Cluster.MemberUnavailableException)
            {
                await Task.Delay(NoLeaderPoll, _options.TimeProvider, token).ConfigureAwait(false);
            }
        }
    }
}
