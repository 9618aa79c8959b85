using RaftKv.Storage.Manifests;
using RaftKv.Storage.Tables;

namespace RaftKv.Storage;

/// <summary>Tables written by a flush or a compaction before its manifest edit: finished one by one (a compaction
/// seals each and fsyncs it in the background, all awaited before the edit), then either
/// recorded by the edit or, if the job fails first, discarded. Caller holds <c>_manifestLock</c>.</summary>
public sealed partial class LsmStore
{
    /// <summary>Finishes <paramref name="writer"/>'s table (fsynced) and opens it: its manifest record at
    /// <paramref name="level"/> and a live reader (its files deleted when released once obsolete).</summary>
    private (ManifestTable Record, TableReader Reader) FinishOutput(TableWriter writer, long id, int level)
    {
        TableMeta meta;
        long size;
        using (writer)
        {
            (meta, size) = writer.Finish(_options.TimeProvider.GetUtcNow().ToUnixTimeMilliseconds());
        }

        var reader = OpenLocalTable(TablePath(_dir, id), id);
        return (new ManifestTable(id, level, size, meta.EntryCount, meta.MinIndex, meta.MaxIndex, meta.CreatedUnixMs, meta.MinKey, meta.MaxKey, reader.TailOffset, null), reader);
    }

    /// <summary>Finishes <paramref name="writer"/>'s table without waiting for its fsync, which runs on the
    /// thread pool (overlapping the disk's writeback with the rest of the job), and adds it to
    /// <paramref name="pending"/>. Once this returns, the writer belongs to that task (which disposes it).</summary>
    private void SealOutput(TableWriter writer, long id, List<SealedOutput> pending)
    {
        var (meta, size) = writer.FinishWithoutSync(_options.TimeProvider.GetUtcNow().ToUnixTimeMilliseconds()); // on failure the caller discards the writer
        pending.Add(new SealedOutput(id, meta, size, Task.Run(() =>
        {
            using (writer)
            {
                writer.Sync();
            }
        })));
    }

    /// <summary>Waits until every sealed table is durable, then opens each one (as <see cref="FinishOutput"/>
    /// does) into <paramref name="outputs"/>. Any fsync failure is thrown once all of them have finished.</summary>
    private async Task CompleteOutputsAsync(List<SealedOutput> pending, int level, List<(ManifestTable Record, TableReader Reader)> outputs)
    {
        await Task.WhenAll(pending.Select(p => p.Sync)).ConfigureAwait(false);
        while (pending.Count > 0)
        {
            var p = pending[0];
            var reader = OpenLocalTable(TablePath(_dir, p.Id), p.Id);
            var meta = p.Meta;
            outputs.Add((new ManifestTable(p.Id, level, p.Size, meta.EntryCount, meta.MinIndex, meta.MaxIndex, meta.CreatedUnixMs, meta.MinKey, meta.MaxKey, reader.TailOffset, null), reader));
            pending.RemoveAt(0); // from here on DiscardOutputs owns it
        }
    }

    /// <summary>Drops sealed tables of a failed job once their fsyncs are over (whatever their outcome):
    /// their files are deleted. Nothing references them: the manifest edit was never written.</summary>
    private async Task DiscardSealedAsync(List<SealedOutput> pending)
    {
        try
        {
            await Task.WhenAll(pending.Select(p => p.Sync)).ConfigureAwait(false);
        }
        catch (Exception)
        {
            // The job already failed; its own error is the one reported.
        }

        foreach (var p in pending)
        {
            _fs.Delete(TablePath(_dir, p.Id));
        }

        pending.Clear();
    }

    /// <summary>Drops a failed job's outputs: the unfinished writer and every finished table (readers released
    /// without their delete hook, files deleted). Nothing references them: the manifest edit was never written.</summary>
    private void DiscardOutputs(TableWriter? writer, List<(ManifestTable Record, TableReader Reader)> outputs)
    {
        writer?.Dispose();
        foreach (var (_, r) in outputs)
        {
            r.OnReleased = null;
            r.Unref();
            _fs.Delete(TablePath(_dir, r.Id));
        }
    }
}
