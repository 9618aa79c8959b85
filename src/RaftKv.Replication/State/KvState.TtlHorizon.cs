using System.Buffers.Binary;
using RaftKv.Storage;

namespace RaftKv.Replication.State;

/// <summary>
/// The TTL horizon: the latest expiry (logical clock, unix ms) any applied per-key TTL put carried. While the logical
/// clock is below it a key written with a TTL may still be live, and only a new entry moves the clock past its expiry,
/// so the idle leader keeps proposing ticks (<c>KvNode.Background.cs</c>); once the clock has passed it, every TTL key
/// ever written has expired and an idle cluster needs no entries at all.
/// </summary>
/// <remarks>
/// <para><b>On disk</b> (reserved key <see cref="ReservedKeys.TtlHorizon"/>, layout version 1): 8 bytes, little-endian
/// int64, the horizon (0 = no TTL put yet). A new store writes it with the first entry it applies, and a TTL put whose
/// expiry is above it rewrites it in the put's batch; both depend only on applied entries, so every replica that
/// applied the same entries holds the same record, and snapshots carry it.</para>
/// <para><b>Unknown horizon.</b> A store that has applied entries but has no record was written by a release before
/// the record existed and may hold TTL keys: its horizon is unknown (<see cref="long.MaxValue"/>: the idle leader
/// ticks, as those releases did). A later TTL put writes the record, which the next open reads as the horizon (keys
/// that release wrote with a later expiry then expire at the next write instead of while the cluster idles).</para>
/// <para><b>Concurrency.</b> <c>_storedTtlHorizon</c> and <c>_pendingTtlHorizon</c> belong to the applier (restore and
/// snapshot installation run before it or on its path); <see cref="TtlHorizon"/> may be read by any thread.</para>
/// </remarks>
internal sealed partial class KvState
{
    private readonly ExpirySchedule _expirySchedule = new(); // when the idle leader must tick next (node-local)
    private long _ttlHorizon; // the effective horizon: the record's value, or long.MaxValue when unknown
    private long _storedTtlHorizon = -1; // the record's value; -1: no record
    private long _pendingTtlHorizon = -1; // the value the next applied batch writes; -1: none

    /// <summary>The latest expiry of any per-key TTL put applied (unix ms on the logical clock); 0 = none;
    /// <see cref="long.MaxValue"/> = unknown (a store from before the record existed).</summary>
    public long TtlHorizon => Interlocked.Read(ref _ttlHorizon);

    /// <summary>Whether a key written with a TTL may still be live: the logical clock has not passed the horizon.</summary>
    public bool HasLiveTtlKeys => TtlHorizon > LogicalClock;

    /// <summary>Whether an idle leader should propose a tick at <paramref name="nowUnixMs"/> for per-key TTLs: a TTL key may
    /// still be live and one of the applied expiries is due (or this node cannot tell, <see cref="ExpirySchedule"/>).</summary>
    public bool TtlTickDue(long nowUnixMs) => HasLiveTtlKeys && _expirySchedule.TickDue(nowUnixMs, LogicalClock, TtlHorizon);

    /// <summary>Expiry buckets the node holds (tests).</summary>
    internal int ExpiryBuckets => _expirySchedule.Count;

    /// <summary>Whether the expiry schedule may lack the expiries of TTL keys written before the store was opened or a
    /// snapshot installed, and <see cref="RebuildExpirySchedule"/> would complete it.</summary>
    public bool ExpiryScheduleNeedsRebuild => _expirySchedule.NeedsRebuild(LogicalClock, out _);

    /// <summary>Completes the expiry schedule after a start or snapshot installation: one keys-only scan of the metadata
    /// records (never the object store) adds the expiry of every key live with a TTL. Any thread, concurrently with the
    /// applier (its TTL puts add themselves); a reset during the scan voids it. Returns whether it completed.</summary>
    public bool RebuildExpirySchedule(CancellationToken token)
    {
        if (!_expirySchedule.NeedsRebuild(LogicalClock, out var generation))
        {
            return false;
        }

        var clock = LogicalClock;
        foreach (var m in _store.ScanMetadata(MvccLayout.MetaPrefix, Api.KeyRanges.PrefixEnd(MvccLayout.MetaPrefix), 0, clock))
        {
            token.ThrowIfCancellationRequested();
            if (m.ExpiresAtUnixMs > clock)
            {
                _expirySchedule.AddRebuilt(generation, m.ExpiresAtUnixMs, clock);
            }
        }

        return _expirySchedule.CompleteRebuild(generation);
    }

    /// <summary>Reads the horizon record after the store was opened or a snapshot installed into it.
    /// <paramref name="storeHasApplied"/>: the store holds applied entries (not a new, empty one).</summary>
    private void LoadTtlHorizon(bool storeHasApplied)
    {
        var stored = _store.GetMetadata(ReservedKeys.TtlHorizon, 0)?.LocalValue is { Length: 8 } v ? BinaryPrimitives.ReadInt64LittleEndian(v.Span) : -1;
        _storedTtlHorizon = stored;
        _pendingTtlHorizon = stored < 0 && !storeHasApplied ? 0 : -1; // a new store records "none yet" with its first entry
        Interlocked.Exchange(ref _ttlHorizon, stored >= 0 ? stored : storeHasApplied ? long.MaxValue : 0);
        _expirySchedule.Reset(TtlHorizon, LogicalClock); // keys written before may expire up to the horizon, unseen
    }

    /// <summary>Applier: the batch about to be applied holds TTL puts expiring at most at <paramref name="expires"/>.</summary>
    private void RaiseTtlHorizon(long expires)
    {
        if (expires > 0 && expires > Math.Max(_storedTtlHorizon, _pendingTtlHorizon))
        {
            _pendingTtlHorizon = expires;
        }
    }

    /// <summary>Applier, in <see cref="ApplyBatch"/>: adds the record to the batch when it changes.</summary>
    private long AddTtlHorizonRecord(List<WriteOp> ops)
    {
        var pending = _pendingTtlHorizon;
        if (pending >= 0)
        {
            var value = new byte[8];
            BinaryPrimitives.WriteInt64LittleEndian(value, pending);
            ops.Add(WriteOp.Put(ReservedKeys.TtlHorizon, value));
        }

        return pending;
    }

    /// <summary>Applier, after the batch <see cref="AddTtlHorizonRecord"/> returned <paramref name="written"/> for was applied.</summary>
    private void TtlHorizonApplied(long written)
    {
        if (written < 0)
        {
            return;
        }

        _storedTtlHorizon = written;
        _pendingTtlHorizon = -1;
        if (TtlHorizon != long.MaxValue)
        {
            Interlocked.Exchange(ref _ttlHorizon, written);
        }
    }
}
