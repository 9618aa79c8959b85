using RaftKv.Storage;

namespace RaftKv.Tiering.Backups;

/// <summary>
/// The backups in a bucket and prefix: listing, reading, downloading for a restore (every file's size and
/// CRC32C checked) and retention. Only complete backups are listed: a backup exists once its manifest does.
/// </summary>
/// <remarks>Several clusters may back up under one prefix (two clusters on one bucket with default settings): each
/// manifest records its cluster's replicated uid (<see cref="BackupManifest.ClusterUid"/>), and a cluster's schedule
/// (<see cref="NewestOfAsync"/>) and retention (<see cref="ApplyRetentionAsync"/>) consider only its own backups. Tables
/// are content-addressed and shared by every cluster's backups. A legacy manifest (format version 1, no uid) is of an
/// unknown cluster: never any cluster's newest, never deleted by retention (delete it by hand once not needed), and
/// a restore counts it as another cluster's (<see cref="BackupClusters"/>).</remarks>
public sealed partial class BackupCatalog(IObjectStore store, BackupLayout layout)
{
    public BackupLayout Layout => layout;

    /// <summary>Every backup, newest first, and the manifests that could not be read (key, error).</summary>
    public async Task<BackupListing> ListAsync(CancellationToken cancellationToken = default)
    {
        var backups = new List<BackupManifest>();
        var unreadable = new List<(string Key, BackupException Error)>();
        foreach (var o in await store.ListAsync(layout.ManifestsPrefix, cancellationToken).ConfigureAwait(false))
        {
            if (layout.IdOf(o.Key, layout.ManifestsPrefix) is null)
            {
                continue;
            }

            try
            {
                backups.Add(await ReadManifestAsync(o.Key, o.Size, cancellationToken).ConfigureAwait(false));
            }
            catch (BackupException e)
            {
                unreadable.Add((o.Key, e));
            }
        }

        return new BackupListing([.. backups.OrderByDescending(b => b.CreatedUnixMs).ThenByDescending(b => b.Id, StringComparer.Ordinal)], unreadable);
    }

    /// <summary>The backup <paramref name="id"/>, or the newest one of ANY cluster when <paramref name="id"/> is null (a
    /// restore picks by cluster: <see cref="BackupClusters"/>; the schedule: <see cref="NewestOfAsync"/>).</summary>
    /// <exception cref="BackupException"><see cref="BackupError.NotFound"/>, <see cref="BackupError.NoBackups"/>,
    /// <see cref="BackupError.ManifestCorrupt"/>, <see cref="BackupError.UnsupportedVersion"/>.</exception>
    public async Task<BackupManifest> ReadAsync(string? id, CancellationToken cancellationToken = default)
    {
        if (id is not null)
        {
            var key = layout.ManifestKey(id);
            var head = await store.HeadAsync(key, cancellationToken).ConfigureAwait(false)
                ?? throw new BackupException(BackupError.NotFound, $"no backup {id} (no {key} in bucket {store.Bucket})");
            return await ReadManifestAsync(key, head.Size, cancellationToken).ConfigureAwait(false);
        }

        var ids = (await store.ListAsync(layout.ManifestsPrefix, cancellationToken).ConfigureAwait(false))
            .Select(o => (o, Id: layout.IdOf(o.Key, layout.ManifestsPrefix)))
            .Where(x => x.Id is not null)
            .OrderByDescending(x => x.Id, StringComparer.Ordinal) // ids begin with the creation time
            .ToList();
        return ids.Count == 0
            ? throw new BackupException(BackupError.NoBackups, $"no backups under {layout.Prefix} in bucket {store.Bucket}")
            : await ReadManifestAsync(ids[0].o.Key, ids[0].o.Size, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>The newest readable backup of the cluster with uid <paramref name="clusterUid"/>, or null when it has none:
    /// manifests are read newest id first until one of that cluster. Other clusters' backups, legacy (format version 1,
    /// no uid) ones and unreadable ones are skipped: they are never this cluster's newest.</summary>
    public async Task<BackupManifest?> NewestOfAsync(string clusterUid, CancellationToken cancellationToken = default)
    {
        var ids = (await store.ListAsync(layout.ManifestsPrefix, cancellationToken).ConfigureAwait(false))
            .Select(o => (o, Id: layout.IdOf(o.Key, layout.ManifestsPrefix)))
            .Where(x => x.Id is not null)
            .OrderByDescending(x => x.Id, StringComparer.Ordinal); // ids begin with the creation time
        foreach (var (o, _) in ids)
        {
            try
            {
                var m = await ReadManifestAsync(o.Key, o.Size, cancellationToken).ConfigureAwait(false);
                if (m.IsOf(clusterUid))
                {
                    return m;
                }
            }
            catch (BackupException)
            {
                // unreadable: not this cluster's newest (retention keeps it; the listing shows it)
            }
        }

        return null;
    }

    /// <summary>Downloads every file of <paramref name="backup"/> into <paramref name="directory"/> (created), checking
    /// each one's size and CRC32C, each file fsynced: the directory is then an LSM checkpoint.</summary>
    /// <exception cref="BackupException"><see cref="BackupError.TableMissing"/> or <see cref="BackupError.TableCorrupt"/>.</exception>
    public Task DownloadAsync(BackupManifest backup, string directory, CancellationToken cancellationToken = default) => DownloadAsync(backup, directory, null, cancellationToken);

    /// <summary><see cref="DownloadAsync(BackupManifest, string, CancellationToken)"/>, reporting the bytes downloaded so far of
    /// the files' total to <paramref name="progress"/> (synchronously: 0 first, then per 4 MiB read).</summary>
    public async Task DownloadAsync(BackupManifest backup, string directory, IProgress<(long Done, long Total)>? progress, CancellationToken cancellationToken = default)
    {
        Directory.CreateDirectory(directory);
        var total = backup.Files.Sum(f => f.Size);
        var downloaded = 0L;
        progress?.Report((0, total));
        var buffer = new byte[4 << 20];
        foreach (var f in backup.Files)
        {
            if (f.Name.Contains('/', StringComparison.Ordinal) || f.Name.Contains('\\', StringComparison.Ordinal) || f.Name is "." or "..")
            {
                throw new BackupException(BackupError.ManifestCorrupt, $"backup {backup.Id}: file name '{f.Name}' is not a plain file name");
            }

            var head = await store.HeadAsync(f.Key, cancellationToken).ConfigureAwait(false)
                ?? throw new BackupException(BackupError.TableMissing, $"backup {backup.Id}: {f.Name} (object {f.Key}) is missing from bucket {store.Bucket}");
            if (head.Size != f.Size)
            {
                throw new BackupException(BackupError.TableCorrupt, $"backup {backup.Id}: {f.Name} (object {f.Key}) is {head.Size} bytes, the manifest says {f.Size}");
            }

            var crc = Crc32C.Start;
            var path = Path.Combine(directory, f.Name);
            var file = new FileStream(path, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1, useAsync: true);
            await using (file.ConfigureAwait(false))
            {
                for (long off = 0; off < f.Size;)
                {
                    var n = (int)Math.Min(buffer.Length, f.Size - off);
                    await store.ReadRangeAsync(f.Key, off, buffer.AsMemory(0, n), cancellationToken).ConfigureAwait(false);
                    crc = Crc32C.Append(crc, buffer.AsSpan(0, n));
                    await file.WriteAsync(buffer.AsMemory(0, n), cancellationToken).ConfigureAwait(false);
                    off += n;
                    downloaded += n;
                    progress?.Report((downloaded, total));
                }

                file.Flush(flushToDisk: true);
            }

            if (Crc32C.Finish(crc) != f.Crc32C)
            {
                throw new BackupException(BackupError.TableCorrupt, $"backup {backup.Id}: {f.Name} (object {f.Key}) fails its CRC32C check (damaged in the bucket)");
            }
        }
    }

    private async Task<BackupManifest> ReadManifestAsync(string key, long size, CancellationToken cancellationToken)
    {
        if (size is <= 0 or > (64 << 20))
        {
            throw new BackupException(BackupError.ManifestCorrupt, $"backup manifest {key} is corrupt: {size} bytes");
        }

        var data = new byte[size];
        await store.ReadRangeAsync(key, 0, data, cancellationToken).ConfigureAwait(false);
        return BackupManifestFormat.Decode(data, key);
    }
}
