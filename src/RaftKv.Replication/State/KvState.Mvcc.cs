using System.Buffers.Binary;
using RaftKv.Replication.Api;
using RaftKv.Storage;

namespace RaftKv.Replication.State;

/// <summary>The MVCC state (revision, compact revision) and the reads over <see cref="MvccLayout"/>.</summary>
/// <remarks>
/// <para>Concurrency: the apply loop is the only writer. <c>_applySeq</c> is a sequence lock around each
/// store batch (odd while a batch is being applied and the revision updated), so a reader can tell
/// whether a current-state read (user keys + "m/" records, two lookups) saw one revision; if not it
/// reads the history at the revision it started from instead (<see cref="ReadCurrentOrHistoryAsync"/>).</para>
/// </remarks>
internal sealed partial class KvState
{
    private long _revision = 1;
    private long _compactRevision;
    private long _applySeq;

    /// <summary>The first revision with revision index records (<see cref="MvccLayout.IndexFromKey"/>; 0 = none yet).</summary>
    private long _indexFrom;

    /// <summary>Revisions by Raft index of the recent batches (a backup checkpoint's revision).</summary>
    public RevisionHistory Revisions { get; } = new();

    /// <summary>The applied store revision (1 for an empty store).</summary>
    public long Revision => Interlocked.Read(ref _revision);

    /// <summary>The applied compact revision (0 = none).</summary>
    public long CompactRevision => Interlocked.Read(ref _compactRevision);

    private void LoadRevision()
    {
        _applyMetaCache.Clear(); // the store was (re)opened or replaced by a snapshot
        if (_store.GetMetadata(MvccLayout.RevisionKey, 0)?.LocalValue is { Length: 16 } r)
        {
            Interlocked.Exchange(ref _revision, BinaryPrimitives.ReadInt64LittleEndian(r.Span));
            Interlocked.Exchange(ref _compactRevision, BinaryPrimitives.ReadInt64LittleEndian(r.Span[8..]));
        }
        else
        {
            Interlocked.Exchange(ref _revision, 1);
            Interlocked.Exchange(ref _compactRevision, 0);
        }

        Interlocked.Exchange(ref _indexFrom, _store.GetMetadata(MvccLayout.IndexFromKey, 0)?.LocalValue is { Length: 8 } x ? BinaryPrimitives.ReadInt64LittleEndian(x.Span) : 0);

        Revisions.Reset(_store.AppliedIndex, Revision, CompactRevision);
    }

    /// <summary>Applies a batch under the sequence lock, then publishes the new revisions.</summary>
    private void ApplyBatch(long index, List<WriteOp> ops, long revision, long compactRevision)
    {
        Interlocked.Increment(ref _applySeq);
        try
        {
            var horizon = AddTtlHorizonRecord(ops); // KvState.TtlHorizon.cs
            _store.Apply(index, ops);
            TtlHorizonApplied(horizon);
            CacheAppliedMeta(ops);
            Interlocked.Exchange(ref _revision, revision);
            Interlocked.Exchange(ref _compactRevision, compactRevision);
            Revisions.Record(index, revision, compactRevision);
        }
        finally
        {
            Interlocked.Increment(ref _applySeq);
        }
    }

    /// <summary>The live metadata of a user key from the store alone (never the object store).</summary>
    public KeyMeta? ReadMeta(ReadOnlySpan<byte> key, long clock)
    {
        var metaKey = MvccLayout.MetaKey(key);
        if (_store.GetMetadata(metaKey, clock) is { } m)
        {
            var local = m.LocalValue ?? throw new InvalidOperationException("an MVCC metadata record is not local (keys files inline records this short)");
            return MvccLayout.DecodeMeta(local.Span, m.ExpiresAtUnixMs);
        }

        // A key written before MVCC (no "m/" record): revision 1, version 1.
        return _store.GetMetadata(key.ToArray(), clock) is { } legacy ? new KeyMeta(1, 1, 1, 0, legacy.ExpiresAtUnixMs) : null;
    }

    /// <summary>
    /// Reads [start, end) (empty end = unbounded; single = only start) at the current revision when the
    /// store does not change meanwhile, else at the revision the read began (from the history). Returns
    /// the keys in key order and the revision read. Values are omitted when <paramref name="withValues"/> is false.
    /// </summary>
    public async ValueTask<(List<KeyValue> Kvs, long Count, long Revision)> ReadCurrentOrHistoryAsync(byte[] start, byte[] end, bool single, bool withValues, int limit, CancellationToken token)
    {
        for (var attempt = 0; attempt < 3; attempt++)
        {
            var seq = Interlocked.Read(ref _applySeq);
            var revision = Revision;
            if ((seq & 1) != 0)
            {
                await Task.Yield();
                continue;
            }

            var (kvs, count, whole) = await ReadCurrentAsync(start, end, single, withValues, limit, token).ConfigureAwait(false);
            if (Interlocked.Read(ref _applySeq) == seq)
            {
                return whole ? (kvs, count, revision) : throw HistoryRecordMissing(kvs);
            }
        }

        var rev = Revision;
        var (all, total) = await ReadHistoryAsync(start, end, single, rev, limit, token).ConfigureAwait(false);
        return (all, total, rev);
    }

    /// <summary>Current-state read; after <paramref name="limit"/> keys (0 = unlimited) the rest is only counted.
    /// <c>Whole</c> is false when a value kept once was not found in its history record: the key changed meanwhile
    /// (the caller's sequence check sees it) or the record is lost; the key is then last in the list.</summary>
    private async ValueTask<(List<KeyValue> Kvs, long Count, bool Whole)> ReadCurrentAsync(byte[] start, byte[] end, bool single, bool withValues, int limit, CancellationToken token)
    {
        var clock = LogicalClock;
        var result = new List<KeyValue>();
        if (single)
        {
            if (ReadMeta(start, clock) is not { } m)
            {
                return (result, 0, true);
            }

            if (!withValues)
            {
                result.Add(ToKv(start, ReadOnlyMemory<byte>.Empty, m, Tier.Memory));
                return (result, 1, true);
            }

            if (m.ValueInHistory)
            {
                var kept = await ValueKeptOnceAsync(start, m, clock, token).ConfigureAwait(false);
                result.Add(ToKv(start, kept?.Value ?? ReadOnlyMemory<byte>.Empty, m, kept?.Tier ?? Tier.Memory));
                return (result, 1, kept is not null);
            }

            if (await _store.GetAsync(start, clock, token).ConfigureAwait(false) is { } e)
            {
                result.Add(ToKv(start, e.Value, m, e.Tier));
            }

            return (result, result.Count, true);
        }

        long count = 0;
        byte[]? resumeAfter = null;

        foreach (var (from, to) in RangeBounds.UserSegments(start, end))
        {
            if (resumeAfter is not null)
            {
                count += CountKeys(from.AsSpan().SequenceCompareTo(resumeAfter) > 0 ? from : resumeAfter, to, clock);
                continue;
            }

            if (!withValues)
            {
                foreach (var e in _store.ScanMetadata(from, to, 0, clock))
                {
                    if (limit > 0 && result.Count >= limit)
                    {
                        resumeAfter = e.Key.ToArray();
                        break;
                    }

                    if (ReadMeta(e.Key.Span, clock) is { } m)
                    {
                        result.Add(ToKv(e.Key, ReadOnlyMemory<byte>.Empty, m, e.Tier));
                    }
                }
            }
            else
            {
                await foreach (var e in _store.ScanAsync(from, to, 0, clock, token).ConfigureAwait(false))
                {
                    if (limit > 0 && result.Count >= limit)
                    {
                        resumeAfter = e.Key.ToArray();
                        break;
                    }

                    if (ReadMeta(e.Key.Span, clock) is not { } m)
                    {
                        continue;
                    }

                    if (!m.ValueInHistory)
                    {
                        result.Add(ToKv(e.Key, e.Value, m, e.Tier));
                    }
                    else if (await ValueKeptOnceAsync(e.Key, m, clock, token).ConfigureAwait(false) is { } kept)
                    {
                        result.Add(ToKv(e.Key, kept.Value, m, kept.Tier));
                    }
                    else
                    {
                        result.Add(ToKv(e.Key, ReadOnlyMemory<byte>.Empty, m, Tier.Memory));
                        return (result, count + result.Count, false);
                    }
                }
            }

            if (resumeAfter is not null)
            {
                count += CountKeys(resumeAfter, to, clock);
            }
        }

        return (result, count + result.Count, true);
    }

    private long CountKeys(byte[] from, byte[] to, long clock)
    {
        long n = 0;
        foreach (var unused in _store.ScanMetadata(from, to, 0, clock))
        {
            n++;
        }

        return n;
    }

    private static bool IsLive(in KeyValue kv, long clock) => kv.ExpiresAtUnixMs == 0 || kv.ExpiresAtUnixMs > clock;

    public static KeyValue ToKv(ReadOnlyMemory<byte> key, ReadOnlyMemory<byte> value, in KeyMeta m, Tier tier)
        => new(key, value, m.Create, m.Mod, m.Version, m.Lease, m.ExpiresAtUnixMs, tier);

    /// <summary>Whether a range must read values: to return them, or to sort by them (etcd sorts before it
    /// drops values for keys_only). Every range path asks this one rule: current and history reads here,
    /// a range inside a txn (<see cref="TxnApply.Range"/>) and the proposer's pre-read for it (KvNode.Resolve).</summary>
    internal static bool NeedsValues(RangeRequest request)
        => !request.CountOnly && (!request.KeysOnly || request.SortTarget == SortTarget.Value);

    /// <summary>How many keys a range read keeps (0 = all): in key order with no filter only the first limit + 1 (count_only:
    /// one), the rest are counted.</summary>
    private static int HistoryScanLimit(RangeRequest request)
    {
        var simple = request is { SortOrder: SortOrder.None, SortTarget: SortTarget.Key, MinModRevision: 0, MaxModRevision: 0, MinCreateRevision: 0, MaxCreateRevision: 0 }
            || request is { SortOrder: SortOrder.Ascend, SortTarget: SortTarget.Key, MinModRevision: 0, MaxModRevision: 0, MinCreateRevision: 0, MaxCreateRevision: 0 };
        return !simple ? 0 : request.CountOnly ? 1 : RangeProcessor.FetchLimit(request.Limit);
    }

    /// <summary>An etcd range read (every <see cref="RangeRequest"/> option) on this replica's applied state.</summary>
    public async Task<RangeResult> ReadRangeAsync(RangeRequest request, CancellationToken cancellationToken)
    {
        var (start, end, single) = RangeBounds.Of(request.Key, request.RangeEnd);
        var current = Revision;
        var limit = HistoryScanLimit(request);

        if (request.Revision != 0 && request.Revision < current)
        {
            var compacted = CompactRevision;
            if (request.Revision < compacted)
            {
                throw new RevisionCompactedException(request.Revision, compacted);
            }

            var (kvs, total) = await ReadHistoryAsync(start, end, single, request.Revision, limit, cancellationToken).ConfigureAwait(false);
            if (!NeedsValues(request))
            {
                kvs = kvs.ConvertAll(kv => kv with { Value = ReadOnlyMemory<byte>.Empty });
            }

            return RangeProcessor.Apply(kvs, request, current, total);
        }

        if (request.Revision > current)
        {
            throw new FutureRevisionException(request.Revision, current);
        }

        var withValues = NeedsValues(request);
        var (read, count, revision) = await ReadCurrentOrHistoryAsync(start, end, single, withValues, limit, cancellationToken).ConfigureAwait(false);
        return RangeProcessor.Apply(read, request, revision, count);
    }

}
