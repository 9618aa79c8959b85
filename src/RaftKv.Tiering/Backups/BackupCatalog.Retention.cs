namespace RaftKv.Tiering.Backups;

/// <remarks>
/// Retention and garbage collection, for ONE cluster (<c>clusterUid</c>; several clusters may share the prefix).
/// Order: 1. the manifests of this cluster's backups past the retention are deleted (from then on they are not
/// listed: never half a backup); other clusters' manifests and legacy ones (format version 1, no uid: of an unknown
/// cluster) are never deleted here; 2. the <c>checkpoints/{id}/</c> objects of the deleted backups; 3. every object
/// under <c>tables/</c> that no remaining manifest of ANY cluster (this cluster's retained ones, every other
/// cluster's, every legacy one) and no pending backup (a <c>pending/</c> marker younger than the pending expiry)
/// references, and that is older than the grace period, is deleted; so are checkpoint objects of no listed or
/// pending backup past the grace period. If any manifest or pending marker cannot be read, the grace-based deletes
/// of step 3 are skipped (its references are unknown; nothing is guessed). Only keys under the backup prefix are
/// ever deleted; the archive tier (<c>nodes/</c>) is never touched, since backups hold their own server-side
/// copies of archived tables.
/// Residual race, documented in docs/operations.md: two nodes that both act as backup node at once (a
/// deposed leader that has not noticed yet, or two clusters' leaders on one prefix) can, in a window of one GC
/// pass, delete a table the other's backup reuses after that backup checked it (a backup lists the stored tables
/// before its pending marker is visible to the other's pass); the next backup of either re-uploads it, and a
/// restore reports such a backup's missing table as <see cref="BackupError.TableMissing"/>.
/// </remarks>
public sealed partial class BackupCatalog
{
    /// <summary>Applies <paramref name="retention"/> to the backups of the cluster <paramref name="clusterUid"/> (see the remarks).</summary>
    public async Task<RetentionResult> ApplyRetentionAsync(BackupRetention retention, string clusterUid, DateTimeOffset now, TimeSpan grace, TimeSpan pendingExpiry, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(clusterUid);

        // Pending markers first, then the manifests: a backup that finishes in between is seen in one or the other.
        var referenced = new HashSet<string>(StringComparer.Ordinal);
        var live = new HashSet<string>(StringComparer.Ordinal);
        var unknown = false;
        foreach (var o in await store.ListAsync(layout.PendingPrefix, cancellationToken).ConfigureAwait(false))
        {
            if (layout.IdOf(o.Key, layout.PendingPrefix) is not { } id)
            {
                continue;
            }

            if (now - o.LastModified > pendingExpiry)
            {
                await store.DeleteAsync(o.Key, cancellationToken).ConfigureAwait(false); // a backup that never finished
                continue;
            }

            live.Add(id);
            try
            {
                var data = new byte[o.Size];
                await store.ReadRangeAsync(o.Key, 0, data, cancellationToken).ConfigureAwait(false);
                referenced.UnionWith(BackupManifestFormat.Decode(data, o.Key).Files.Select(f => f.Key));
            }
            catch (BackupException)
            {
                unknown = true;
            }
        }

        var listing = await ListAsync(cancellationToken).ConfigureAwait(false);
        var mine = listing.Backups.Where(b => b.IsOf(clusterUid)).ToList();
        var retained = retention.Retained(mine, now);
        var keep = retained.Select(b => b.Id).ToHashSet(StringComparer.Ordinal);
        var expired = mine.Where(b => !keep.Contains(b.Id)).ToList();
        foreach (var b in expired)
        {
            await store.DeleteAsync(layout.ManifestKey(b.Id), cancellationToken).ConfigureAwait(false);
        }

        var expiredIds = expired.Select(b => b.Id).ToHashSet(StringComparer.Ordinal);
        foreach (var b in listing.Backups.Where(b => !expiredIds.Contains(b.Id))) // every cluster's, legacy ones included
        {
            live.Add(b.Id);
            referenced.UnionWith(b.Files.Select(f => f.Key));
        }

        foreach (var (key, _) in listing.Unreadable)
        {
            unknown = true;
            if (layout.IdOf(key, layout.ManifestsPrefix) is { } unreadableId)
            {
                live.Add(unreadableId);
            }
        }

        var checkpointsDeleted = 0;
        foreach (var o in await store.ListAsync(layout.CheckpointsPrefix, cancellationToken).ConfigureAwait(false))
        {
            var rest = o.Key[layout.CheckpointsPrefix.Length..];
            var slash = rest.IndexOf('/', StringComparison.Ordinal);
            var id = slash < 0 ? rest : rest[..slash];
            if (expiredIds.Contains(id) || (!live.Contains(id) && !unknown && now - o.LastModified > grace))
            {
                await store.DeleteAsync(o.Key, cancellationToken).ConfigureAwait(false);
                checkpointsDeleted++;
            }
        }

        var tablesDeleted = 0;
        long bytesDeleted = 0;
        if (!unknown)
        {
            foreach (var o in await store.ListAsync(layout.TablesPrefix, cancellationToken).ConfigureAwait(false))
            {
                if (!referenced.Contains(o.Key) && now - o.LastModified > grace)
                {
                    await store.DeleteAsync(o.Key, cancellationToken).ConfigureAwait(false);
                    tablesDeleted++;
                    bytesDeleted += o.Size;
                }
            }
        }

        return new RetentionResult(retained, expired.Count, tablesDeleted, bytesDeleted, checkpointsDeleted, unknown)
        {
            OtherClusters = listing.Backups.Count(b => b.ClusterUid is not null && !b.IsOf(clusterUid)),
            Legacy = listing.Backups.Count(b => b.ClusterUid is null),
        };
    }
}
