using RaftKv.Replication.Api;
using RaftKv.Replication.Commands;
using RaftKv.Storage;

namespace RaftKv.Replication.State;

/// <summary>
/// One write transaction being applied: the ops of the branch taken (nested txns included) execute in
/// order against the committed state plus this transaction's own earlier writes (the overlay, as etcd's
/// txn reads its own writes), and buffer their store writes; all changes share revision
/// <see cref="NewRevision"/>, numbered in op order (the sub-revision of <see cref="MvccLayout"/>'s revision
/// index = the event's position in <see cref="Events"/>). Deterministic: reads only what every replica has locally
/// (<see cref="IKvStore.GetMetadata"/>/<see cref="IKvStore.ScanMetadata"/>), never the object store.
/// </summary>
internal sealed class TxnApply(KvState state, IKvStore store, long clock, long baseRevision, KvCommand command, ApplyResult? holder)
{
    // The overlay (keys this txn wrote → their new meta and value; null meta = deleted). The first key lives in
    // fields and a dictionary is made only for a second one: most transactions write one key.
    private byte[]? _firstKey;
    private (KeyMeta? Meta, byte[]? Value) _first;
    private Dictionary<byte[], (KeyMeta? Meta, byte[]? Value)>? _more;

    public long NewRevision { get; } = baseRevision + 1;

    public bool Changed { get; private set; }

    /// <summary>Set when a resolution (value compare, ignore_value) went stale: apply nothing.</summary>
    public bool Conflict { get; set; }

    /// <summary>The branch of every txn on the path (true = success), decided before any op ran, for a
    /// <see cref="CommandCodec.TxnPathVersion"/> command with nested txns; null otherwise (version 3: nested
    /// compares are evaluated when reached, seeing the txn's earlier writes).</summary>
    public Dictionary<KvTxn, bool>? Path { get; set; }

    /// <summary>The latest expiry of this txn's TTL puts (unix ms on the logical clock), 0 = none.</summary>
    public long MaxExpires { get; private set; }

    /// <summary>The expiries of this txn's TTL puts (null: none), for the node's <see cref="ExpirySchedule"/>.</summary>
    public List<long>? Expiries { get; private set; }

    public List<WriteOp> Ops { get; } = new(8); // a put: value, meta, history, then clock and revision (KvState.Txn.cs)

    public List<MvccEvent> Events { get; } = [];

    /// <summary>The revision reads inside the txn observe (etcd's <c>storeTxnWrite.Range</c>: the revision before the
    /// txn, plus one once an op of it changed something).</summary>
    public long ReadRevision => Changed ? NewRevision : baseRevision;

    /// <summary>Set once the branch path's requests were checked before any op ran (format version 6).</summary>
    public bool RequestsChecked { get; set; }

    /// <summary>The proposer's holder on the node that proposed the entry, else null.</summary>
    public ApplyResult? Holder => holder;

    public KeyMeta? Meta(byte[] key)
        => TryOverlay(key, out var o) ? o.Meta : state.ReadMetaForApply(key, clock);

    /// <summary>The live keys of [start, end) (empty end = unbounded), overlay included, in key order.</summary>
    public List<(byte[] Key, KeyMeta Meta)> Keys(byte[] start, byte[] end, bool single)
    {
        var result = new List<(byte[], KeyMeta)>();
        if (single)
        {
            if (Meta(start) is { } m)
            {
                result.Add((start, m));
            }

            return result;
        }

        var keys = new SortedSet<byte[]>(KeyComparer.Instance);
        foreach (var (from, to) in RangeBounds.UserSegments(start, end))
        {
            foreach (var e in store.ScanMetadata(from, to, 0, clock))
            {
                keys.Add(e.Key.ToArray());
            }
        }

        foreach (var k in OverlayKeys())
        {
            if (k.AsSpan().SequenceCompareTo(start) >= 0 && (end.Length == 0 || k.AsSpan().SequenceCompareTo(end) < 0))
            {
                keys.Add(k);
            }
        }

        foreach (var k in keys)
        {
            if (Meta(k) is { } m)
            {
                result.Add((k, m));
            }
        }

        return result;
    }

    /// <summary>The value a result shows the proposer (not state): overlay, local copy, or the
    /// proposer's pre-read at the same mod revision; never the object store.</summary>
    public ReadOnlyMemory<byte>? ValueForProposer(byte[] key, in KeyMeta m, out Tier tier)
    {
        tier = Tier.Memory;
        if (TryOverlay(key, out var o) && o.Value is { } v)
        {
            return v;
        }

        if (m.ValueInHistory)
        {
            if (store.GetMetadata(MvccLayout.HistoryKey(key, m.Mod), clock) is { LocalValue: { } record } hm
                && MvccLayout.HistoryValue(record) is { } kept)
            {
                tier = hm.Tier;
                return kept;
            }
        }
        else if (store.GetMetadata(key, clock) is { LocalValue: { } local } lm)
        {
            tier = lm.Tier;
            return local;
        }

        if (holder?.FindPreRead(key, m.Mod) is { } pre)
        {
            tier = pre.Tier;
            return pre.Value;
        }

        holder?.MarkValueMissing();
        return null;
    }

    public KeyValue? PrevFor(byte[] key, KeyMeta? meta)
    {
        if (holder is null || meta is not { } m)
        {
            return null;
        }

        var value = ValueForProposer(key, m, out var tier);
        return KvState.ToKv(key, value ?? ReadOnlyMemory<byte>.Empty, m, tier);
    }

    public void Put(KvOp op, byte[] value, KeyMeta? prev)
    {
        var lease = op.IgnoreLease && prev is { } p ? p.Lease : op.Lease;
        var expires = op.TtlMs > 0 ? clock + op.TtlMs : 0;
        MaxExpires = Math.Max(MaxExpires, expires);
        if (expires > 0)
        {
            (Expiries ??= []).Add(expires);
        }

        var once = command.FormatVersion >= CommandCodec.ValueOnceVersion && value.Length >= MvccLayout.LargeValueMinBytes;
        var meta = prev is { } old
            ? new KeyMeta(old.Create, NewRevision, old.Version + 1, lease, expires, once)
            : new KeyMeta(NewRevision, NewRevision, 1, lease, expires, once);
        Ops.Add(WriteOp.Put(op.Key, once ? ReadOnlyMemory<byte>.Empty : value, expires)); // kept once: in the history record below
        Ops.Add(WriteOp.Put(MvccLayout.MetaKey(op.Key), MvccLayout.EncodeMeta(meta), expires));
        Leases.LeaseKeys.Reattach(Ops, op.Key, prev?.Lease ?? 0, lease);
        Ops.Add(WriteOp.Put(MvccLayout.HistoryKey(op.Key, NewRevision), MvccLayout.HistoryPutHeader(meta), value));
        Ops.Add(WriteOp.Put(MvccLayout.IndexKey(NewRevision, Events.Count, op.Key), ReadOnlyMemory<byte>.Empty));
        Events.Add(new MvccEvent(MvccEventType.Put, KvState.ToKv(op.Key, value, meta, Tier.Memory), null));
        SetOverlay(op.Key, (meta, value));
        Changed = true;
    }

    public void Delete(byte[] key)
    {
        Leases.LeaseKeys.Reattach(Ops, key, Meta(key)?.Lease ?? 0, 0);
        Ops.Add(WriteOp.Delete(key));
        Ops.Add(WriteOp.Delete(MvccLayout.MetaKey(key)));
        Ops.Add(WriteOp.Put(MvccLayout.HistoryKey(key, NewRevision), MvccLayout.HistoryDelete));
        Ops.Add(WriteOp.Put(MvccLayout.IndexKey(NewRevision, Events.Count, key), ReadOnlyMemory<byte>.Empty));
        Events.Add(new MvccEvent(MvccEventType.Delete, new KeyValue(key, ReadOnlyMemory<byte>.Empty, 0, NewRevision, 0, 0), null));
        SetOverlay(key, (null, null));
        Changed = true;
    }

    /// <summary>A range read inside the txn (at the txn's state).</summary>
    public RangeResult Range(RangeRequest request)
    {
        var (start, end, single) = RangeBounds.Of(request.Key, request.RangeEnd);
        var kvs = new List<KeyValue>();
        foreach (var (k, m) in Keys(start, end, single))
        {
            if (!KvState.NeedsValues(request) || holder is null) // keys_only sorted by value still reads values
            {
                kvs.Add(KvState.ToKv(k, ReadOnlyMemory<byte>.Empty, m, Tier.Memory));
                continue;
            }

            var value = ValueForProposer(k, m, out var tier);
            kvs.Add(KvState.ToKv(k, value ?? ReadOnlyMemory<byte>.Empty, m, tier));
        }

        return RangeProcessor.Apply(kvs, request, ReadRevision);
    }

    public KvCommand Command => command;

    public long BaseRevision => baseRevision;

    /// <summary>Whether this replica proposed the entry (only the proposer fills in result values).</summary>
    public bool HasProposer => holder is not null;

    /// <summary>The value this txn wrote to <paramref name="key"/> earlier, if any.</summary>
    public byte[]? OverlayValue(byte[] key) => TryOverlay(key, out var o) ? o.Value : null;

    public long Clock => clock;

    private bool TryOverlay(byte[] key, out (KeyMeta? Meta, byte[]? Value) entry)
    {
        if (_firstKey is not null && ByteArrayEquality.Instance.Equals(_firstKey, key))
        {
            entry = _first;
            return true;
        }

        if (_more is not null && _more.TryGetValue(key, out entry))
        {
            return true;
        }

        entry = default;
        return false;
    }

    private void SetOverlay(byte[] key, (KeyMeta? Meta, byte[]? Value) entry)
    {
        if (_firstKey is null || ByteArrayEquality.Instance.Equals(_firstKey, key))
        {
            _firstKey ??= key;
            _first = entry;
            return;
        }

        (_more ??= new Dictionary<byte[], (KeyMeta? Meta, byte[]? Value)>(ByteArrayEquality.Instance))[key] = entry;
    }

    private IEnumerable<byte[]> OverlayKeys()
    {
        if (_firstKey is not null)
        {
            yield return _firstKey;
        }

        foreach (var k in _more?.Keys ?? Enumerable.Empty<byte[]>())
        {
            yield return k;
        }
    }
}
