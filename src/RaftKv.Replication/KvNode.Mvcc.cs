using System.Runtime.CompilerServices;
using RaftKv.Replication.Api;
using RaftKv.Replication.Commands;
using RaftKv.Replication.State;

namespace RaftKv.Replication;

/// <summary>The MVCC reads, compaction and revision watches (docs/architecture.md, "MVCC").</summary>
public sealed partial class KvNode
{
    public long Revision => _state.Revision;

    public long CompactRevision => _state.CompactRevision;

    public async Task<RangeResult> RangeAsync(RangeRequest request, ReadConsistency consistency, CancellationToken cancellationToken = default)
    {
        ValidateRange(request);
        await BarrierAsync(consistency, cancellationToken).ConfigureAwait(false);
        return await ReadRangeAsync(request, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>A range read on this replica's applied state (no barrier).</summary>
    internal Task<RangeResult> ReadRangeAsync(RangeRequest request, CancellationToken cancellationToken)
        => _state.ReadRangeAsync(request, cancellationToken);

    public async Task<KeyspaceRead> ReadKeyspaceAsync(long revision, ReadConsistency consistency, CancellationToken cancellationToken = default)
    {
        if (revision < 0)
        {
            throw new ArgumentException("revision must not be negative");
        }

        await BarrierAsync(consistency, cancellationToken).ConfigureAwait(false);
        var current = _state.Revision;
        var at = revision == 0 ? current : revision;
        if (at > current)
        {
            throw new FutureRevisionException(at, current);
        }

        var compacted = _state.CompactRevision;
        if (at < compacted)
        {
            throw new RevisionCompactedException(at, compacted);
        }

        return new KeyspaceRead(at, current, _state.StreamHistoryAsync([0], [], at, cancellationToken));
    }

    public async Task<long> CompactRevisionAsync(long revision, bool physical, CancellationToken cancellationToken = default)
    {
        // etcd's rules (mvcc.Compact): a revision at or below the compact revision is compacted already, a negative
        // one too; 0 while nothing was compacted is a no-op ("compacted revision 0").
        var compacted = _state.CompactRevision;
        if (revision == 0 && compacted == 0)
        {
            return _state.Revision;
        }

        if (revision <= compacted || revision < 0)
        {
            throw new RevisionCompactedException(revision, compacted);
        }

        if (revision > _state.Revision)
        {
            throw new FutureRevisionException(revision, _state.Revision);
        }

        var result = await ProposeAsync(new KvCommand(CommandKind.Compact, NextTimestamp(), null, null, Revision: revision), cancellationToken).ConfigureAwait(false);
        if (physical)
        {
            // Obsolete history goes in LSM compactions (HistoryCompactionFilter): flush, then compact every level.
            await _store.FlushAsync(cancellationToken).ConfigureAwait(false);
            await _store.CompactAsync(_state.LogicalClock, cancellationToken).ConfigureAwait(false);
        }

        return result.Revision;
    }

    public async IAsyncEnumerable<IReadOnlyList<MvccEvent>> WatchRevisionsAsync(byte[] key, byte[]? rangeEnd, long startRevision, bool prevKv, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(key);
        if (startRevision < 0)
        {
            throw new ArgumentException("start revision must not be negative");
        }

        var (start, end, single) = RangeBounds.Of(key, rangeEnd);
        var compacted = _state.CompactRevision;
        if (startRevision != 0 && startRevision < compacted)
        {
            throw new RevisionCompactedException(startRevision, compacted);
        }

        var next = startRevision == 0 ? _state.Revision + 1 : startRevision;
        while (true)
        {
            var live = _state.Watch.Subscribe();
            try
            {
                var upTo = _state.Revision; // every revision > upTo is published to `live`
                if (next <= upTo)
                {
                    compacted = _state.CompactRevision;
                    if (next < compacted)
                    {
                        throw new RevisionCompactedException(next, compacted); // compaction overtook the catch-up
                    }

                    foreach (var (_, events) in await _state.ReadChangesAsync(start, end, single, next, upTo, prevKv, cancellationToken).ConfigureAwait(false))
                    {
                        yield return events;
                    }

                    next = upTo + 1;
                }

                await foreach (var (rev, events) in live.ReadAllAsync(cancellationToken).ConfigureAwait(false))
                {
                    if (rev < next)
                    {
                        continue;
                    }

                    next = rev + 1;
                    List<MvccEvent>? matching = null;
                    foreach (var e in events)
                    {
                        if (RangeBounds.Contains(start, end, single, e.Kv.Key.Span))
                        {
                            var ev = e;
                            if (prevKv)
                            {
                                ev = e with { PrevKv = await ReadKeyAtAsync(e.Kv.Key.ToArray(), rev - 1, cancellationToken).ConfigureAwait(false) };
                            }

                            (matching ??= []).Add(ev);
                        }
                    }

                    if (matching is not null)
                    {
                        yield return matching;
                    }
                }

                // The hub completed the channel (this watcher lagged, or a snapshot replaced the state): catch up again.
            }
            finally
            {
                _state.Watch.Unsubscribe(live);
            }
        }
    }

    public RevisionFeed SubscribeRevisions()
    {
        var reader = _state.Watch.Subscribe();
        return new RevisionFeed(reader, _state.Revision, () => _state.Watch.Unsubscribe(reader)); // subscribed first: no gap
    }

    public async Task<IReadOnlyList<(long Revision, IReadOnlyList<MvccEvent> Events)>> ReadRevisionsAsync(byte[] key, byte[]? rangeEnd, long from, long to, bool prevKv,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(key);
        var compacted = _state.CompactRevision;
        if (from < compacted)
        {
            throw new RevisionCompactedException(from, compacted);
        }

        if (from > to)
        {
            return [];
        }

        var (start, end, single) = RangeBounds.Of(key, rangeEnd);
        var changes = await _state.ReadChangesAsync(start, end, single, from, to, prevKv, cancellationToken).ConfigureAwait(false);
        return changes.ConvertAll(c => (c.Revision, (IReadOnlyList<MvccEvent>)c.Events));
    }

    public async Task<KeyValue?> ReadKeyAtAsync(byte[] key, long revision, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(key);
        if (!_state.PrevKvReadable(revision + 1))
        {
            return null; // below the compact revision: maybe removed already (lazily, per node), so never read
        }

        var (found, _) = await _state.ReadHistoryAsync(key, [], true, revision, 0, cancellationToken).ConfigureAwait(false);
        return found.Count > 0 ? found[0] : null;
    }

    private static void ValidateRange(RangeRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (request.Key.Length == 0)
        {
            throw new ArgumentException("key must not be empty");
        }

        if (request.Limit < 0 || request.Revision < 0 || request.MinModRevision < 0 || request.MaxModRevision < 0 || request.MinCreateRevision < 0 || request.MaxCreateRevision < 0)
        {
            throw new ArgumentException("limit and revisions must not be negative");
        }

        if (!Enum.IsDefined(request.SortOrder) || !Enum.IsDefined(request.SortTarget))
        {
            throw new ArgumentException("unknown sort order or target");
        }

        if (request.RangeEnd is { Length: > 0 } end && end is not [0x00] && end.AsSpan().SequenceCompareTo(request.Key) < 0)
        {
            throw new ArgumentException("range end must be greater than the key");
        }
    }
}
