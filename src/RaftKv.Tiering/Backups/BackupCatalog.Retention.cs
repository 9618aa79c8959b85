namespace RaftKv.Tiering.Backups;

/// <remarks>
/// Retention and garbage collection. Order: 1. the manifests of backups past the retention are deleted (from
/// then on they are not listed: never half a backup); 2. their <c>checkpoints/{id}/</c> objects; 3. every
/// object under <c>tables/</c> that no retained backup and no pending backup (a <c>pending/</c> marker younger
/// than the pending expiry) references, and that is older than the grace period, is deleted. If any manifest
/// or pending marker cannot be read, step 3 is skipped (its references are unknown; nothing is guessed).
/// Only keys under the backup prefix are ever deleted; the archive tier (<c>nodes/</c>) is never touched,
/// since backups hold their own server-side copies of archived tables.
/// Residual race, documented in docs/operations.md: two nodes that both act as backup node at once (a
/// deposed leader that has not noticed yet) can, in a window of one GC pass, delete a table the other's
/// backup reuses after that backup checked it; the next backup of either re-uploads it, and a restore
/// reports such a backup's missing table as <see cref="BackupError.TableMissing"/>.
/// </remarks>
public sealed partial class BackupCatalog
{
    public async Task<RetentionResult> ApplyRetentionAsync(BackupRetention retention, DateTimeOffset now, TimeSpan grace, TimeSpan pendingExpiry, CancellationToken cancellationToken = default)
    {
        var listing = await ListAsync(cancellationToken).ConfigureAwait(false);
        var retained = retention.Retained(listing.Backups, now);
        var keep = retained.Select(b => b.Id).ToHashSet(StringComparer.Ordinal);
        var expired = listing.Backups.Where(b => !keep.Contains(b.Id)).ToList();
        foreach (var b in expired)
        {
            await store.DeleteAsync(layout.ManifestKey(b.Id), cancellationToken).ConfigureAwait(false);
        }

        var referenced = retained.SelectMany(b => b.Files).Select(f => f.Key).ToHashSet(StringComparer.Ordinal);
        var live = new HashSet<string>(keep, StringComparer.Ordinal);
        var unknown = listing.Unreadable.Count > 0;
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

        var expiredIds = expired.Select(b => b.Id).ToHashSet(StringComparer.Ordinal);
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

        return new RetentionResult(retained, expired.Count, tablesDeleted, bytesDeleted, checkpointsDeleted, unknown);
    }
}
