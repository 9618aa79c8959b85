using System.Collections.Concurrent;
using RaftKv.Storage;

namespace RaftKv.Replication.Leases;

/// <summary>
/// The granted leases, in memory: a cache of the lease records in the store (<see cref="LeaseKeys"/>),
/// changed only by the applier (grant, revoke, checkpoint) and reloaded from the store when the state is
/// restored or a snapshot is installed, so it is the same on every replica at the same applied index.
/// Readers (the lessor, TimeToLive, Leases) may read it concurrently.
/// </summary>
internal sealed class LeaseTable
{
    private readonly ConcurrentDictionary<long, LeaseRecord> _leases = new();

    public int Count => _leases.Count;

    public bool Contains(long id) => _leases.ContainsKey(id);

    public LeaseRecord? Find(long id) => _leases.TryGetValue(id, out var r) ? r : null;

    /// <summary>Every lease, in id order.</summary>
    public IReadOnlyList<LeaseRecord> All() => _leases.Values.OrderBy(r => r.Id).ToList();

    public void Set(LeaseRecord record) => _leases[record.Id] = record;

    public void Remove(long id) => _leases.TryRemove(id, out _);

    /// <summary>Replaces the table with the records in <paramref name="store"/> (never touches the object
    /// store: lease records are short enough to be local in every tier).</summary>
    public void Load(IKvStore store)
    {
        _leases.Clear();
        var (start, end) = LeaseKeys.LeaseRange;
        foreach (var m in store.ScanMetadata(start, end, 0, 0))
        {
            var value = store.GetMetadata(m.Key, 0)?.LocalValue
                ?? throw new InvalidOperationException("a lease record's value is not local (keys files keep values this short)");
            var (ttl, remaining) = LeaseKeys.DecodeRecord(value.Span);
            var id = LeaseKeys.IdOfLease(m.Key.Span);
            _leases[id] = new LeaseRecord(id, ttl, remaining);
        }
    }
}
