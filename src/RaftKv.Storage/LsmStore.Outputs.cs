using RaftKv.Storage.Manifests;
using RaftKv.Storage.Tables;

namespace RaftKv.Storage;

/// <summary>Tables written by a flush or a compaction before its manifest edit: finished one by one, then either
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

        var reader = TableReader.OpenLocal(_fs, TablePath(_dir, id), id, _cache);
        reader.OnReleased = OnTableReleased;
        return (new ManifestTable(id, level, size, meta.EntryCount, meta.MinIndex, meta.MaxIndex, meta.CreatedUnixMs, meta.MinKey, meta.MaxKey, reader.TailOffset, null), reader);
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
