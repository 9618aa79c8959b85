using System.Collections.Concurrent;
using RaftKv.Storage.Iteration;
using RaftKv.Storage.Manifests;
using RaftKv.Storage.Tables;

namespace RaftKv.Storage;

public sealed partial class LsmStore
{
    // Archived tables consumed by compaction: their objects are deleted once no reader holds them
    // (the manifest edit that dropped them is already durable by then).
    private readonly ConcurrentDictionary<long, string> _obsoleteObjects = new();

    /// <summary>
    /// A full compaction: flush, push every level down (each table rewritten through the compaction filter,
    /// tombstones and expired entries dropped at the bottom), then rewrite in place the deepest level's local
    /// tables that no push rewrote (tables that reached it by trivial moves). Archived tables are rewritten only
    /// when a push merges them; the bottom's archived tables stay in the object store (rewriting them would
    /// bring the whole object tier back to local disk).
    /// </summary>
    public async Task CompactAsync(long nowUnixMs, CancellationToken cancellationToken = default)
    {
        LogicalClockUnixMs = Math.Max(LogicalClockUnixMs, nowUnixMs);
        await FlushAsync(cancellationToken).ConfigureAwait(false);
        long firstNewId;
        await _manifestLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            firstNewId = _manifest.NextFileNumber;
        }
        finally
        {
            _manifestLock.Release();
        }

        while (await CompactOnceAsync(nowUnixMs, cancellationToken, force: true).ConfigureAwait(false))
        {
        }

        await _manifestLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var set = _tables;
            var bottom = Array.FindLastIndex(set.Levels, l => l.Count > 0);
            var stale = bottom < 1 ? [] : set.Levels[bottom].Where(t => !t.IsRemote && t.Id < firstNewId).ToList();
            if (stale.Count > 0)
            {
                await CompactAsync(set, stale, bottom, nowUnixMs, cancellationToken).ConfigureAwait(false);
            }
        }
        finally
        {
            _manifestLock.Release();
        }
    }

    /// <summary>Runs one compaction if a level needs it. With <paramref name="force"/>, L0 is
    /// compacted whenever it has any table and every non-bottom level is pushed down once.</summary>
    private async Task<bool> CompactOnceAsync(long nowUnixMs, CancellationToken cancellationToken, bool force = false)
    {
        await _manifestLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var set = _tables;
            var pick = Pick(set, force);
            if (pick is null)
            {
                return false;
            }

            if (pick.IsMove)
            {
                MoveTables(pick.Inputs, pick.OutputLevel);
            }
            else
            {
                await CompactAsync(set, pick.Inputs, pick.OutputLevel, nowUnixMs, cancellationToken).ConfigureAwait(false);
            }

            return true;
        }
        finally
        {
            _manifestLock.Release();
        }
    }

    private async Task CompactAsync(TableSet set, List<TableReader> inputs, int outputLevel, long nowUnixMs, CancellationToken cancellationToken)
    {
        // Newest first: L0 tables by descending id, then one cursor per deeper level (its tables
        // are disjoint, so they are read one after the other in key order). One pass: blocks are
        // not cached, and each value is copied into the output before its cursor moves on.
        var bottom = set.Levels.Skip(outputLevel + 1).All(l => l.Count == 0);
        var sources = new List<EntryCursor>();
        foreach (var group in inputs.GroupBy(t => set.LevelOf(t.Id)).OrderBy(g => g.Key))
        {
            if (group.Key == 0)
            {
                sources.AddRange(group.OrderByDescending(t => t.Id).Select(t => new TableCursor([t], [], fillCache: false)));
            }
            else
            {
                sources.Add(new TableCursor(group.OrderBy(t => t.Meta.MinKey, KeyComparer.Instance).ToList(), [], fillCache: false));
            }
        }

        // Outputs end at the owner's partition boundaries and before every output-level table left alone.
        var inputIds = inputs.Select(t => t.Id).ToHashSet();
        var boundaries = new TableBoundaries(_options.PartitionBoundaries.Concat(
            set.Levels[outputLevel].Where(t => !inputIds.Contains(t.Id)).Select(t => t.Meta.MinKey)));
        var merged = new MergingCursor(sources);
        var filter = _options.CompactionFilterFactory?.Invoke();
        var outputs = new List<(ManifestTable Record, TableReader Reader)>();
        TableWriter? writer = null;
        long id = 0;
        try
        {
            while (true)
            {
                // Synchronous while the inputs are local or cached: no async call per entry.
                if (!merged.TryMoveNext(out var more))
                {
                    more = await merged.MoveNextAsync(cancellationToken).ConfigureAwait(false);
                }

                if (!more)
                {
                    break;
                }

                var tombstone = merged.Tombstone;
                if (filter is not null && filter.Drop(merged.Key, tombstone))
                {
                    continue; // the owner's obsolete data (LsmOptions.CompactionFilterFactory)
                }

                var expires = merged.ExpiresAtUnixMs;
                var expired = !tombstone && expires != 0 && expires <= nowUnixMs;
                if (bottom && (tombstone || expired))
                {
                    continue; // nothing older can be shadowed below the bottom level
                }

                if (boundaries.Crosses(merged.Key) && writer is not null)
                {
                    outputs.Add(FinishOutput(writer, id, outputLevel));
                    writer = null;
                }

                if (writer is null)
                {
                    id = _manifest.NextFileNumber++;
                    writer = new TableWriter(_fs, TablePath(_dir, id), _options.BlockSize, _options.Compression);
                }

                if (expired)
                {
                    writer.Add(merged.Key, [], merged.Version, 0, tombstone: true);
                }
                else
                {
                    writer.Add(merged.Key, merged.Value.Span, merged.Version, expires, tombstone);
                }

                if (writer.EstimatedSize >= _options.TargetFileBytes)
                {
                    outputs.Add(FinishOutput(writer, id, outputLevel));
                    writer = null;
                }
            }

            if (writer is not null)
            {
                outputs.Add(FinishOutput(writer, id, outputLevel));
                writer = null;
            }
        }
        catch
        {
            writer?.Dispose();
            foreach (var (_, r) in outputs)
            {
                r.OnReleased = null;
                r.Unref();
                _fs.Delete(TablePath(_dir, r.Id));
            }

            throw;
        }

        _fs.SyncDirectory(_dir);
        var edit = new ManifestEdit();
        edit.Added.AddRange(outputs.Select(o => o.Record));
        edit.Removed.AddRange(inputs.Select(t => t.Id));
        foreach (var t in inputs.Where(t => t.IsRemote))
        {
            if (_manifest.Tables.TryGetValue(t.Id, out var rec) && rec.ObjectName is { } name)
            {
                _obsoleteObjects[t.Id] = name;
            }
        }

        try
        {
            _manifest.Append(edit); // durable before any input file or object is deleted
        }
        catch (IO.DiskFullException e)
        {
            // A manifest record may now be torn in the middle of the log: never append after it.
            throw ManifestWriteFailed(e);
        }

        var removed = inputs.Select(t => t.Id).ToHashSet();
        lock (_lock)
        {
            _tables = _tables.With(outputs.Select(o => (outputLevel, o.Reader)), removed);
            PublishState();
        }

        foreach (var t in inputs)
        {
            t.Unref(); // drop the live reference; the file goes when the last reader is done
        }

        Interlocked.Increment(ref _counters.Compactions);
        Interlocked.Add(ref _counters.RemoteTablesCompacted, inputs.Count(t => t.IsRemote));
        Interlocked.Add(ref _counters.RemoteBytesCompacted, inputs.Where(t => t.IsRemote).Sum(t => t.Size));
        LogCompacted(_logger, inputs.Count, outputs.Count, outputLevel);
    }

    private (ManifestTable, TableReader) FinishOutput(TableWriter writer, long id, int level)
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
}
