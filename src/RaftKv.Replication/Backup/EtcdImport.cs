using Microsoft.Extensions.Logging;
using RaftKv.Replication.Leases;
using RaftKv.Replication.State;
using RaftKv.Storage;
using RaftKv.Storage.IO;

namespace RaftKv.Replication.Backup;

/// <summary>
/// Builds one member's data directory of a new cluster from an etcd backend (<c>raftkv restore</c> of a file
/// <c>etcdctl snapshot save</c> wrote against a real etcd): the migration etcd → RaftKv. The restored cluster serves
/// the same keys with the same revisions (create, mod, version, lease), etcd's history since its last compaction, the
/// compaction itself (reads below it: "required revision has been compacted") and the leases with their granted TTL
/// (the countdown restarts, as after etcd's own restore), and etcd's users, roles, permissions and auth flag
/// (<see cref="EtcdAuthImport"/>: the records the applier would hold after the same etcdctl commands).
/// </summary>
/// <remarks>
/// <para>The records are the ones the applier writes (<see cref="MvccLayout"/>, <see cref="LeaseKeys"/>), built
/// in a temporary LSM under <c>snapshots/tmp-import</c> (deleted at the next start if the import is cut short), then
/// checkpointed and ingested like a continuous backup (<see cref="SnapshotRestore.RestoreCheckpointAsync(System.Func{string, CancellationToken, Task}, SnapshotHeader, string, ulong, ILoggerFactory, IProgress{RestoreProgress}?, CancellationToken)"/>):</para>
/// <list type="number">
/// <item>each change of the <c>key</c> bucket, in (revision, sub) order: its history record at its revision (a put
/// carries etcd's create revision, version and lease; below the compact revision these are the versions etcd's
/// compaction kept) and, at or above the compact revision, its revision index record with etcd's sub;</item>
/// <item>then, from the history (newest record per key first): each live key's value, <c>m/</c> metadata and lease
/// attachment (only to a lease the file holds; etcd's recovery also keeps the key of a missing lease);</item>
/// <item>the lease records (TTL, no remaining TTL: the full TTL from the first leader), <c>rev</c> (the revision:
/// the highest revision in the bucket, at least the compact revision, as etcd's recovery; the compact revision),
/// <c>revidx</c> (the compact revision, or 1); the auth records (<see cref="EtcdAuthImport"/>, built and checked
/// before anything is written). No logical clock record: it starts at 0 as in a new cluster, so
/// that every member imported from the same file holds the same state (the clock is replicated: each applied entry
/// takes the maximum of it and the leader's timestamp, so a member-local "now" would make members diverge).</item>
/// </list>
/// <para>Refused (<see cref="SnapshotFileException"/>, <see cref="SnapshotFileError.Corrupt"/>): changes out of
/// order, an empty key, a key in RaftKv's reserved space (0x00 0xFF...); <see cref="SnapshotFileError.UnsupportedAuth"/>:
/// an auth state the applier's rules refuse. A refused import leaves no data directory behind.</para>
/// </remarks>
public static class EtcdImport
{
    private const int BatchOps = 8192;

    /// <summary>Imports into the empty or absent <paramref name="dataDir"/> without users or roles
    /// (<see cref="EtcdAuth.None"/>); <paramref name="changes"/> is enumerated once.</summary>
    /// <exception cref="SnapshotFileException">The changes are not a valid etcd history.</exception>
    /// <exception cref="RestoreTargetException">The target is not empty.</exception>
    public static Task<EtcdImportResult> RestoreAsync(IEnumerable<EtcdChange> changes, long compactRevision, IReadOnlyList<(long Id, long TtlSeconds)> leases,
        string dataDir, ulong clusterId, ILoggerFactory loggers, IProgress<RestoreProgress>? progress, CancellationToken cancellationToken = default)
        => RestoreAsync(changes, compactRevision, leases, EtcdAuth.None, dataDir, clusterId, loggers, progress, cancellationToken);

    /// <summary>Imports into the empty or absent <paramref name="dataDir"/>; <paramref name="changes"/> is
    /// enumerated once.</summary>
    /// <exception cref="SnapshotFileException">The changes are not a valid etcd history, or the auth state cannot be
    /// imported (<see cref="SnapshotFileError.UnsupportedAuth"/>, refused before anything is written).</exception>
    /// <exception cref="RestoreTargetException">The target is not empty.</exception>
    public static async Task<EtcdImportResult> RestoreAsync(IEnumerable<EtcdChange> changes, long compactRevision, IReadOnlyList<(long Id, long TtlSeconds)> leases,
        EtcdAuth auth, string dataDir, ulong clusterId, ILoggerFactory loggers, IProgress<RestoreProgress>? progress, CancellationToken cancellationToken = default)
    {
        var (authOps, authState) = EtcdAuthImport.Build(auth);
        long imported = 0, live = 0;
        var header = new SnapshotHeader(0, 1, DateTimeOffset.UtcNow.ToUnixTimeMilliseconds(), 0, clusterId, false, 0, 0);
        var restore = await SnapshotRestore.RestoreCheckpointAsync(
            async (incoming, ct) =>
            {
                var fs = PhysicalFileSystem.Instance;
                var tmp = Path.Combine(Path.GetDirectoryName(incoming)!, "tmp-import");
                var store = await LsmStore.OpenAsync(
                    new LsmOptions { Directory = tmp, PartitionBoundaries = TablePartitions.Boundaries, FileSystem = fs, Logger = loggers.CreateLogger<LsmStore>() }, ct).ConfigureAwait(false);
                try
                {
                    var batches = new Batches(store);
                    (imported, var revision) = WriteHistory(batches, changes, compactRevision, progress, ct);
                    var leaseIds = leases.Select(l => l.Id).ToHashSet();
                    live = await WriteCurrentAsync(batches, store, leaseIds, ct).ConfigureAwait(false);
                    foreach (var (id, ttl) in leases)
                    {
                        batches.Add(WriteOp.Put(LeaseKeys.Lease(id), LeaseKeys.EncodeRecord(ttl, 0)));
                    }

                    batches.Add(WriteOp.Put(MvccLayout.RevisionKey, MvccLayout.EncodeRevision(Math.Max(revision, compactRevision), compactRevision)));
                    batches.Add(WriteOp.Put(MvccLayout.IndexFromKey, MvccLayout.EncodeIndexFrom(Math.Max(1, compactRevision))));
                    batches.Add(WriteOp.Put(ReservedKeys.TtlHorizon, new byte[8])); // no per-key TTLs in etcd's data (State/KvState.TtlHorizon.cs)
                    foreach (var op in authOps)
                    {
                        batches.Add(op);
                    }
                    batches.Flush();
                    await store.CheckpointAsync(incoming, ct).ConfigureAwait(false);
                }
                finally
                {
                    await store.DisposeAsync().ConfigureAwait(false);
                    fs.DeleteDirectory(tmp);
                }
            },
            header, dataDir, clusterId, loggers, progress, cancellationToken).ConfigureAwait(false);
        return new EtcdImportResult(restore, imported, live, authState);
    }

    private static (long Changes, long Revision) WriteHistory(Batches batches, IEnumerable<EtcdChange> changes, long compactRevision, IProgress<RestoreProgress>? progress, CancellationToken cancellationToken)
    {
        long count = 0, revision = 1, lastRevision = 0, lastSub = -1;
        foreach (var c in changes)
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (c.Revision < lastRevision || (c.Revision == lastRevision && c.Sub <= lastSub) || c.Revision < 1 || c.Sub < 0 || c.Sub > int.MaxValue)
            {
                throw new SnapshotFileException(SnapshotFileError.Corrupt, $"etcd's key bucket lists revision {c.Revision}_{c.Sub} after {lastRevision}_{lastSub}");
            }

            if (c.Key.Length == 0 || ReservedKeys.IsReserved(c.Key))
            {
                throw new SnapshotFileException(SnapshotFileError.Corrupt, $"etcd's key bucket holds {(c.Key.Length == 0 ? "an empty key" : "a key starting with 0x00 0xFF (RaftKv's reserved space)")} at revision {c.Revision}");
            }

            (lastRevision, lastSub) = (c.Revision, c.Sub);
            revision = Math.Max(revision, c.Revision);
            batches.Add(WriteOp.Put(MvccLayout.HistoryKey(c.Key, c.Revision),
                c.Delete ? MvccLayout.HistoryDelete : MvccLayout.EncodeHistoryPut(new KeyMeta(c.CreateRevision, c.Revision, c.Version, c.Lease, 0), c.Value)));
            if (c.Revision >= compactRevision)
            {
                batches.Add(WriteOp.Put(MvccLayout.IndexKey(c.Revision, (int)c.Sub, c.Key), ReadOnlyMemory<byte>.Empty));
            }

            count++;
        }

        progress?.Report(new RestoreProgress("import", count, count, "changes")); // the total is known only at the end
        return (count, revision);
    }

    /// <summary>The current records of every key whose newest history record is a put; returns their number.</summary>
    private static async Task<long> WriteCurrentAsync(Batches batches, LsmStore store, HashSet<long> leases, CancellationToken cancellationToken)
    {
        batches.Flush(); // the scan's view holds the whole history
        long live = 0;
        byte[]? previous = null;
        var (start, end) = (MvccLayout.HistoryPrefix, Api.KeyRanges.PrefixEnd(MvccLayout.HistoryPrefix));
        await foreach (var e in store.ScanAsync(start, end, 0, 0, cancellationToken).ConfigureAwait(false))
        {
            var (key, revision) = MvccLayout.ParseHistoryKey(e.Key.Span);
            if (previous is not null && key.AsSpan().SequenceEqual(previous))
            {
                continue; // an older version
            }

            previous = key;
            if (MvccLayout.DecodeHistory(key, revision, e.Value, Tier.Memory) is not { } kv)
            {
                continue; // deleted
            }

            var meta = new KeyMeta(kv.CreateRevision, revision, kv.Version, kv.Lease, 0);
            batches.Add(WriteOp.Put(key, kv.Value.ToArray()));
            batches.Add(WriteOp.Put(MvccLayout.MetaKey(key), MvccLayout.EncodeMeta(meta)));
            if (kv.Lease != 0 && leases.Contains(kv.Lease))
            {
                LeaseKeys.Reattach(batches.Ops, key, 0, kv.Lease);
            }

            live++;
            batches.FlushIfFull();
        }

        return live;
    }

    /// <summary>Store batches at increasing Raft indexes (1, 2, ...): the imported state's Raft index is the last.</summary>
    private sealed class Batches(LsmStore store)
    {
        private long _index;

        public List<WriteOp> Ops { get; } = [];

        public void Add(WriteOp op)
        {
            Ops.Add(op);
            FlushIfFull();
        }

        public void FlushIfFull()
        {
            if (Ops.Count >= BatchOps)
            {
                Flush();
            }
        }

        public void Flush()
        {
            if (Ops.Count > 0)
            {
                store.Apply(++_index, Ops);
                Ops.Clear();
            }
        }
    }
}
