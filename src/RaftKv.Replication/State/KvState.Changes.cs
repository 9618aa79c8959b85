using RaftKv.Replication.Api;
using RaftKv.Storage;

namespace RaftKv.Replication.State;

/// <summary>The changes of a revision range (watch catch-up and <c>ReadRevisionsAsync</c>).</summary>
/// <remarks>
/// <para>Events come in etcd's order: by revision, then by sub-revision (the change's position in its
/// transaction's op order) — the order of live delivery (<see cref="WatchHub"/>). Three paths
/// (<see cref="MvccLayout"/>):</para>
/// <list type="bullet">
/// <item>a single key: its own history, newest first, from the record at <c>to</c> down to one record
/// below <c>from</c> (its prev_kv); one key has at most one change per revision, so no order question;</item>
/// <item>a range, revisions ≥ the index start (<c>_indexFrom</c>): the revision index <c>i/ [from, to]</c>,
/// keys-only, skipping keys outside the range, then one history lookup per matching change (and one
/// more for prev_kv). The cost is the changes of [from, to] in the whole store, not the history of the
/// watched range;</item>
/// <item>a range, revisions below the index start (written by layout 1): the range's whole history is
/// scanned and the events of one revision come in key order (layout 1 kept no op order).</item>
/// </list>
/// <para>Reads only: one point-in-time view per store call; a compaction racing the read can only
/// remove records below the compact revision, which the caller checked <c>from</c> against.</para>
/// </remarks>
internal sealed partial class KvState
{
    /// <summary>Every change in [start, end) (or the single key) with revision in [from, to], grouped per
    /// revision in revision order, each group in etcd's event order (see the type's remarks); with
    /// <paramref name="prevKv"/> each event carries the key's previous version, except the events of a revision
    /// at or below the compact revision (their previous version is below it: <see cref="PrevKvReadable"/>).</summary>
    public async Task<List<(long Revision, List<MvccEvent> Events)>> ReadChangesAsync(byte[] start, byte[] end, bool single, long from, long to, bool prevKv, CancellationToken token)
    {
        var result = await ReadAnyChangesAsync(start, end, single, from, to, prevKv, token).ConfigureAwait(false);
        if (prevKv)
        {
            foreach (var (revision, events) in result)
            {
                if (!PrevKvReadable(revision))
                {
                    for (var i = 0; i < events.Count; i++)
                    {
                        events[i] = events[i] with { PrevKv = null };
                    }
                }
            }
        }

        return result;
    }

    /// <summary>Whether an event of <paramref name="revision"/> carries prev_kv: only if its previous version (the key
    /// at revision - 1) is at or above the compact revision, as etcd (its watch reads prev_kv at ModRevision - 1 and
    /// leaves it out when that read is refused as compacted). Below it the record may or may not have been
    /// removed yet (lazily, per node), so reading it would make prev_kv depend on the node's LSM compactions.</summary>
    public bool PrevKvReadable(long revision) => revision - 1 >= CompactRevision;

    private async Task<List<(long Revision, List<MvccEvent> Events)>> ReadAnyChangesAsync(byte[] start, byte[] end, bool single, long from, long to, bool prevKv, CancellationToken token)
    {
        if (single)
        {
            return await ReadKeyChangesAsync(start, from, to, prevKv, token).ConfigureAwait(false);
        }

        var indexFrom = Interlocked.Read(ref _indexFrom);
        var legacyTo = indexFrom == 0 ? to : Math.Min(to, indexFrom - 1);
        var result = from <= legacyTo ? await ReadLegacyChangesAsync(start, end, from, legacyTo, prevKv, token).ConfigureAwait(false) : [];
        if (indexFrom != 0 && Math.Max(from, indexFrom) <= to)
        {
            result.AddRange(await ReadIndexedChangesAsync(start, end, Math.Max(from, indexFrom), to, prevKv, token).ConfigureAwait(false));
        }

        return result;
    }

    private async Task<List<(long Revision, List<MvccEvent> Events)>> ReadIndexedChangesAsync(byte[] start, byte[] end, long from, long to, bool prevKv, CancellationToken token)
    {
        var clock = LogicalClock;
        var result = new List<(long Revision, List<MvccEvent> Events)>();
        var matches = new List<(long Revision, byte[] Key)>();
        foreach (var e in _store.ScanMetadata(MvccLayout.IndexBound(from), MvccLayout.IndexBound(to + 1), 0, clock))
        {
            var key = MvccLayout.IndexUserKey(e.Key.Span);
            if (RangeBounds.Contains(start, end, false, key))
            {
                matches.Add((MvccLayout.IndexRevision(e.Key.Span) ?? 0, key.ToArray()));
            }
        }

        foreach (var (rev, key) in matches)
        {
            if (await _store.GetAsync(MvccLayout.HistoryKey(key, rev), clock, token).ConfigureAwait(false) is not { } record)
            {
                continue; // removed by a compaction that overtook this read (the caller's compaction check)
            }

            var ev = ToEvent(key, rev, MvccLayout.DecodeHistory(key, rev, record.Value, record.Tier));
            if (prevKv)
            {
                ev = ev with { PrevKv = await ReadVersionAsync(key, rev - 1, token).ConfigureAwait(false) };
            }

            if (result.Count == 0 || result[^1].Revision != rev)
            {
                result.Add((rev, []));
            }

            result[^1].Events.Add(ev);
        }

        return result;
    }

    /// <summary>The newest history record of <paramref name="key"/> at or below <paramref name="revision"/>
    /// (null: absent or deleted then).</summary>
    private async Task<KeyValue?> ReadVersionAsync(byte[] key, long revision, CancellationToken token)
    {
        await foreach (var e in _store.ScanAsync(MvccLayout.HistoryKey(key, revision), MvccLayout.HistoryKey(key, 0), 1, LogicalClock, token).ConfigureAwait(false))
        {
            var (k, rev) = MvccLayout.ParseHistoryKey(e.Key.Span);
            return MvccLayout.DecodeHistory(k, rev, e.Value, e.Tier);
        }

        return null;
    }

    private static MvccEvent ToEvent(byte[] key, long revision, KeyValue? kv)
        => kv is { } put
            ? new MvccEvent(MvccEventType.Put, put, null)
            : new MvccEvent(MvccEventType.Delete, new KeyValue(key, ReadOnlyMemory<byte>.Empty, 0, revision, 0, 0), null);

    /// <summary>One key's changes in [from, to]: its history from <c>to</c> down, plus the record below <c>from</c> for prev_kv.</summary>
    private async Task<List<(long Revision, List<MvccEvent> Events)>> ReadKeyChangesAsync(byte[] key, long from, long to, bool prevKv, CancellationToken token)
    {
        var newestFirst = new List<(long Revision, List<MvccEvent> Events)>();
        await foreach (var e in _store.ScanAsync(MvccLayout.HistoryKey(key, to), MvccLayout.HistoryKey(key, 0), 0, LogicalClock, token).ConfigureAwait(false))
        {
            var (k, rev) = MvccLayout.ParseHistoryKey(e.Key.Span);
            var kv = MvccLayout.DecodeHistory(k, rev, e.Value, e.Tier);
            if (newestFirst.Count > 0 && prevKv)
            {
                var newer = newestFirst[^1].Events;
                newer[0] = newer[0] with { PrevKv = kv };
            }

            if (rev < from)
            {
                break;
            }

            newestFirst.Add((rev, [ToEvent(k, rev, kv)]));
        }

        newestFirst.Reverse();
        return newestFirst;
    }

    /// <summary>Changes of revisions written by layout 1 (no revision index): the range's whole history,
    /// events of one revision in key order.</summary>
    private async Task<List<(long Revision, List<MvccEvent> Events)>> ReadLegacyChangesAsync(byte[] start, byte[] end, long from, long to, bool prevKv, CancellationToken token)
    {
        var (hs, he) = MvccLayout.HistoryRange(start, end);
        var events = new List<(long Rev, MvccEvent Event)>();
        (long Rev, MvccEvent Event)? pending = null; // the newer record of the same key awaiting its previous version
        byte[]? current = null;
        await foreach (var e in _store.ScanAsync(hs, he, 0, LogicalClock, token).ConfigureAwait(false))
        {
            var (k, rev) = MvccLayout.ParseHistoryKey(e.Key.Span);
            var sameKey = current is not null && current.AsSpan().SequenceEqual(k);
            current = k;
            var kv = MvccLayout.DecodeHistory(k, rev, e.Value, e.Tier);
            if (pending is { } p)
            {
                events.Add(sameKey && prevKv ? (p.Rev, p.Event with { PrevKv = kv }) : p);
                pending = null;
            }

            if (rev >= from && rev <= to)
            {
                pending = (rev, ToEvent(k, rev, kv));
            }
        }

        if (pending is { } last)
        {
            events.Add(last);
        }

        return events
            .OrderBy(x => x.Rev)
            .ThenBy(x => x.Event.Kv.Key.ToArray(), KeyComparer.Instance)
            .GroupBy(x => x.Rev)
            .Select(g => (g.Key, g.Select(x => x.Event).ToList()))
            .ToList();
    }
}
