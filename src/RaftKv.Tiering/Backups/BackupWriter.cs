using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;
using RaftKv.Storage;
using RaftKv.Storage.IO;

namespace RaftKv.Tiering.Backups;

/// <summary>
/// Writes one backup of a checkpoint (<see cref="BackupSource"/>) into the backup bucket, incrementally:
/// a table whose content name (<see cref="BackupLayout"/>) is already stored is referenced, not uploaded.
/// </summary>
/// <remarks>
/// <para>Order (why a half-done backup is never listed, and why GC never removes what it will reference):
/// 1. the pending marker <c>pending/{id}.manifest</c> (every file the backup will reference; retention keeps
/// them); 2. missing tables: local ones uploaded (CRC32C verified), archived ones copied server-side from the
/// archive bucket (the backup must not depend on the archive tier, whose compactions delete objects);
/// 3. the checkpoint's <c>CHECKPOINT</c>; 4. every referenced object checked present with its size;
/// 5. leadership checked again; 6. the manifest, one PUT (atomic: listed complete or not at all);
/// 7. the pending marker deleted. A crash anywhere leaves no manifest; GC removes the leftovers.</para>
/// <para>Content names of local tables are SHA-256 of the file, computed once per table per process
/// (tables are immutable; the cache is keyed by table id, size and creation time).</para>
/// </remarks>
public sealed class BackupWriter(IObjectStore backups, IObjectStore? archive, BackupLayout layout)
{
    private readonly ConcurrentDictionary<(long Id, long Size, long Created), (string Sha, uint Crc)> _hashes = new();

    /// <summary>Takes the backup of <paramref name="source"/>; <paramref name="stillBackupNode"/> is asked before the manifest is written.</summary>
    /// <exception cref="BackupException"><see cref="BackupError.Incomplete"/> or <see cref="BackupError.TableMissing"/>.</exception>
    public Task<BackupManifest> WriteAsync(BackupSource source, Func<bool> stillBackupNode, CancellationToken cancellationToken)
        => WriteAsync(source, stillBackupNode, null, cancellationToken);

    /// <summary>Takes the backup, reporting to <paramref name="progress"/> (synchronously, on the writing thread)
    /// once the bucket is listed and after each file stored (<see cref="BackupProgress"/>; Started is left default).</summary>
    /// <exception cref="BackupException"><see cref="BackupError.Incomplete"/>, <see cref="BackupError.TableMissing"/> or
    /// <see cref="BackupError.ClusterUidUnknown"/> (a source without <see cref="BackupSource.ClusterUid"/>).</exception>
    public async Task<BackupManifest> WriteAsync(BackupSource source, Func<bool> stillBackupNode, IProgress<BackupProgress>? progress, CancellationToken cancellationToken)
    {
        var clusterUid = source.ClusterUid ?? throw new BackupException(BackupError.ClusterUidUnknown, "the cluster has no cluster uid yet; a backup must record which cluster it is of");
        var fs = PhysicalFileSystem.Instance;
        var id = BackupLayout.NewId(source.Created, source.SourceNodeId);
        var (tables, _) = LsmStore.ReadCheckpoint(fs, source.Directory);
        var checkpointPath = Path.Combine(source.Directory, LsmStore.CheckpointManifestName);
        var files = new List<BackupFile>
        {
            new(LsmStore.CheckpointManifestName, layout.CheckpointKey(id, LsmStore.CheckpointManifestName), new FileInfo(checkpointPath).Length, await FileCrc.ComputeAsync(checkpointPath, cancellationToken).ConfigureAwait(false)),
        };
        var uploads = new List<(BackupFile File, Func<Task> Upload)>();
        foreach (var t in tables)
        {
            var name = LsmStore.TableFileName(t.Id);
            if (t.ObjectName is null)
            {
                var path = Path.Combine(source.Directory, name);
                var (sha, crc) = await HashAsync((t.Id, new FileInfo(path).Length, t.CreatedUnixMs), path, cancellationToken).ConfigureAwait(false);
                var file = new BackupFile(name, layout.TableKey(sha), new FileInfo(path).Length, crc);
                files.Add(file);
                uploads.Add((file, () => backups.PutFileAsync(file.Key, path, cancellationToken)));
            }
            else
            {
                var objects = archive ?? throw new InvalidOperationException($"table {t.Id} is archived as '{t.ObjectName}' but no archive object store is configured");
                var head = await objects.HeadAsync(t.ObjectName, cancellationToken).ConfigureAwait(false)
                    ?? throw new BackupException(BackupError.TableMissing, $"archived table {t.Id} ('{t.ObjectName}' in bucket {objects.Bucket}) is missing");
                var crc = head.Crc32C ?? throw new BackupException(BackupError.TableCorrupt, $"archived table '{t.ObjectName}' has no CRC32C metadata");
                var sha = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes($"{objects.Bucket}/{t.ObjectName}/{head.Size}/{crc}")));
                var file = new BackupFile(name, layout.TableKey("a" + sha), head.Size, crc);
                files.Add(file);
                var objectName = t.ObjectName;
                uploads.Add((file, () => backups.CopyFromAsync(objects.Bucket, objectName, file.Key, cancellationToken)));
            }
        }

        // The checkpoint's value files (key-value separation: values its local tables point at), stored like local
        // tables, by content; a restore downloads them by name next to the tables.
        foreach (var name in LsmStore.CheckpointBlobFiles(fs, source.Directory))
        {
            var path = Path.Combine(source.Directory, name);
            var blobId = long.Parse(name.AsSpan(0, 16), System.Globalization.NumberStyles.AllowHexSpecifier, System.Globalization.CultureInfo.InvariantCulture);
            var (sha, crc) = await HashAsync((blobId, new FileInfo(path).Length, -1), path, cancellationToken).ConfigureAwait(false);
            var file = new BackupFile(name, layout.TableKey("v" + sha), new FileInfo(path).Length, crc);
            files.Add(file);
            uploads.Add((file, () => backups.PutFileAsync(file.Key, path, cancellationToken)));
        }

        var manifest = new BackupManifest(id, source.ClusterId, source.SourceNodeId, source.Created.ToUnixTimeMilliseconds(), source.RaftIndex, source.RaftTerm, source.Revision, source.CompactRevision, source.Members, files, 0) { ClusterUid = clusterUid };
        await PutBytesAsync(layout.PendingKey(id), BackupManifestFormat.Encode(manifest), source.Directory, cancellationToken).ConfigureAwait(false);

        long uploaded;
        try
        {
            uploaded = await UploadAsync(id, files, uploads, checkpointPath, stillBackupNode, progress, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception) when (!cancellationToken.IsCancellationRequested)
        {
            await ForgetPendingAsync(id).ConfigureAwait(false); // its uploads become garbage for retention
            throw;
        }

        manifest = manifest with { UploadedBytes = uploaded };
        await PutBytesAsync(layout.ManifestKey(id), BackupManifestFormat.Encode(manifest), source.Directory, cancellationToken).ConfigureAwait(false);
        await backups.DeleteAsync(layout.PendingKey(id), cancellationToken).ConfigureAwait(false);
        return manifest;
    }

    private async Task<long> UploadAsync(string id, List<BackupFile> files, List<(BackupFile File, Func<Task> Upload)> uploads, string checkpointPath, Func<bool> stillBackupNode, IProgress<BackupProgress>? progress, CancellationToken cancellationToken)
    {
        var stored = (await backups.ListAsync(layout.TablesPrefix, cancellationToken).ConfigureAwait(false)).ToDictionary(o => o.Key, o => o.Size, StringComparer.Ordinal);
        var distinct = uploads.DistinctBy(u => u.File.Key).ToList();
        var missing = distinct.Where(u => !(stored.TryGetValue(u.File.Key, out var size) && size == u.File.Size)).ToList(); // else an earlier backup has it
        var p = new BackupProgress(true, 0, missing.Count + 1, distinct.Count - missing.Count, 0, missing.Sum(u => u.File.Size) + files[0].Size, default, null, id, null);
        progress?.Report(p);
        long uploaded = 0;
        foreach (var (file, upload) in missing)
        {
            await upload().ConfigureAwait(false);
            uploaded += file.Size;
            p = p with { FilesDone = p.FilesDone + 1, BytesDone = uploaded };
            progress?.Report(p);
        }

        await backups.PutFileAsync(files[0].Key, checkpointPath, cancellationToken).ConfigureAwait(false);
        uploaded += files[0].Size;
        progress?.Report(p with { FilesDone = p.FilesDone + 1, BytesDone = uploaded });
        foreach (var f in files)
        {
            var head = await backups.HeadAsync(f.Key, cancellationToken).ConfigureAwait(false);
            if (head is null || head.Size != f.Size)
            {
                throw new BackupException(BackupError.Incomplete, $"backup {id}: object {f.Key} vanished while the backup was written; it is abandoned (the next backup uploads it again)");
            }
        }

        if (!stillBackupNode())
        {
            throw new BackupException(BackupError.Incomplete, $"backup {id}: this node stopped being the backup node (leader) before the manifest was written; abandoned");
        }

        return uploaded;
    }

    private async Task ForgetPendingAsync(string id)
    {
        try
        {
            await backups.DeleteAsync(layout.PendingKey(id), CancellationToken.None).ConfigureAwait(false);
        }
        catch (RemoteTierUnavailableException)
        {
            // The marker expires (BackupOptions.PendingExpiry); until then it only keeps objects alive.
        }
    }

    /// <summary>Stores <paramref name="data"/> as one object (through a file in <paramref name="scratch"/>).</summary>
    internal static async Task PutBytesAsync(IObjectStore store, string key, byte[] data, string scratch, CancellationToken cancellationToken)
    {
        var tmp = Path.Combine(scratch, "upload-" + Guid.NewGuid().ToString("N"));
        await File.WriteAllBytesAsync(tmp, data, cancellationToken).ConfigureAwait(false);
        try
        {
            await store.PutFileAsync(key, tmp, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            File.Delete(tmp);
        }
    }

    private Task PutBytesAsync(string key, byte[] data, string scratch, CancellationToken cancellationToken) => PutBytesAsync(backups, key, data, scratch, cancellationToken);

    /// <summary>SHA-256 and CRC32C of an immutable file, cached by <paramref name="cacheKey"/> (a table: id, length and
    /// creation time; a value file: its id, length and -1).</summary>
    private async Task<(string Sha, uint Crc)> HashAsync((long, long, long) cacheKey, string path, CancellationToken cancellationToken)
    {
        if (_hashes.TryGetValue(cacheKey, out var known))
        {
            return known;
        }

        using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        var crc = Crc32C.Start;
        var buffer = new byte[1 << 16];
        var f = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1, useAsync: true);
        await using (f.ConfigureAwait(false))
        {
            int n;
            while ((n = await f.ReadAsync(buffer, cancellationToken).ConfigureAwait(false)) > 0)
            {
                sha.AppendData(buffer, 0, n);
                crc = Crc32C.Append(crc, buffer.AsSpan(0, n));
            }
        }

        var result = (Convert.ToHexStringLower(sha.GetHashAndReset()), Crc32C.Finish(crc));
        _hashes[cacheKey] = result;
        return result;
    }
}
