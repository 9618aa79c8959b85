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
    private volatile CompactionProgress? _manualCompaction;

    public Task CompactAsync(long nowUnixMs, CancellationToken cancellationToken = default) => CompactAsync(nowUnixMs, null, cancellationToken);

    /// <summary>The full compaction (<see cref="IKvStore.CompactAsync"/>): flush, push every level down (each table
    /// rewritten through the compaction filter; a level holding only tables this compaction just wrote moves into an
    /// empty level below instead, <see cref="FullCompactionState"/>: every entry is rewritten once), then rewrite the bottom's local tables no push rewrote
    /// (<see cref="RewriteBottomAsync"/>); reporting after its flush and after each level push to <paramref name="progress"/> (synchronously, on the compacting thread) and to
    /// <see cref="ManualCompaction"/>.</summary>
    public async Task CompactAsync(long nowUnixMs, IProgress<CompactionProgress>? progress, CancellationToken cancellationToken = default)
    {
        var now = _options.TimeProvider;
        var p = new CompactionProgress(true, 0, 0, 0, 0, 0, now.GetUtcNow(), null, null);
        void Report(CompactionProgress next)
        {
            p = next;
            _manualCompaction = next;
            progress?.Report(next);
        }

        Report(p);
        try
        {
            LogicalClockUnixMs = Math.Max(LogicalClockUnixMs, nowUnixMs);
            await FlushAsync(cancellationToken).ConfigureAwait(false);
            var firstNewId = await NextFileNumberAsync(cancellationToken).ConfigureAwait(false);
            var planned = _tables;
            var (steps, bytes) = PlanFullCompaction(planned);
            Report(p with { StepsTotal = steps, BytesTotal = bytes, TablesBefore = planned.Levels.Sum(l => l.Count) });
            var fresh = new FullCompactionState();
            while (await CompactOnceAsync(nowUnixMs, cancellationToken, force: true, fresh, (level, input) =>
                   {
                       var done = p.StepsDone + 1;
                       var read = p.BytesDone + input;
                       Report(p with { StepsDone = done, StepsTotal = Math.Max(p.StepsTotal, done), Level = level, BytesDone = read, BytesTotal = Math.Max(p.BytesTotal, read) });
                   }).ConfigureAwait(false))
            {
            }

            var rewritten = await RewriteBottomAsync(firstNewId, nowUnixMs, cancellationToken).ConfigureAwait(false);
            if (rewritten > 0)
            {
                Report(p with { StepsDone = p.StepsDone + 1, BytesDone = p.BytesDone + rewritten });
            }

            Report(p with { Running = false, StepsTotal = p.StepsDone, BytesTotal = p.BytesDone, Finished = now.GetUtcNow() });
        }
        catch (Exception e)
        {
            Report(p with { Running = false, Finished = now.GetUtcNow(), Error = e.Message });
            throw;
        }
    }

    private async Task<long> NextFileNumberAsync(CancellationToken cancellationToken)
    {
        await _manifestLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            return _manifest.NextFileNumber;
        }
        finally
        {
            _manifestLock.Release();
        }
    }

    /// <summary>
    /// A full compaction's last step: the deepest level's local tables that no push rewrote (ids below
    /// <paramref name="firstNewId"/>: tables that reached the bottom by trivial moves) are rewritten in place,
    /// so every local entry passes the compaction filter and bottom tombstones go. Archived tables stay in the
    /// object store (rewriting them would bring the object tier back to local disk). Returns the input bytes.
    /// </summary>
    private async Task<long> RewriteBottomAsync(long firstNewId, long nowUnixMs, CancellationToken cancellationToken)
    {
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

            return stale.Sum(t => t.Size);
        }
        finally
        {
            _manifestLock.Release();
        }
    }

    /// <summary>The running full compaction's progress, or the last one's (null before any).</summary>
    public CompactionProgress? ManualCompaction => _manualCompaction;

    /// <summary>The pushes (and their input bytes) a forced compaction of <paramref name="set"/> makes, following
    /// <see cref="Pick"/> with force on the level shape (each push moves the whole level into the next).</summary>
    private (int Steps, long Bytes) PlanFullCompaction(TableSet set)
    {
        var counts = set.Levels.Select(l => l.Count).ToArray();
        var sizes = set.Levels.Select(l => l.Sum(t => t.Size)).ToArray();
        var fresh = new FullCompactionState();
        int steps = 0;
        long bytes = 0;
        for (var level = 0; level < counts.Length - 1; level++)
        {
            var target = _options.L1TargetBytes * (long)Math.Pow(10, Math.Max(0, level - 1));
            var deeperEmpty = counts.Skip(level + 1).All(c => c == 0);
            if (counts[level] > 0 && (level == 0 || sizes[level] > target || !deeperEmpty))
            {
                var move = level > 0 && fresh.IsFresh(level) && counts[level + 1] == 0; // as Pick decides
                fresh.Pushed(level, level + 1, move, counts[level + 1] == 0);
                if (move)
                {
                    (counts[level + 1], sizes[level + 1], counts[level], sizes[level]) = (counts[level], sizes[level], 0, 0);
                    continue;
                }

                steps++;
                bytes += sizes[level] + sizes[level + 1];
                counts[level + 1] += counts[level];
                sizes[level + 1] += sizes[level];
                counts[level] = 0;
                sizes[level] = 0;
            }
        }

        return (steps, bytes);
    }

    /// <summary>Runs one compaction if a level needs it. With <paramref name="force"/>, L0 is
    /// compacted whenever it has any table and every non-bottom level is pushed down once.</summary>
    private async Task<bool> CompactOnceAsync(long nowUnixMs, CancellationToken cancellationToken, bool force = false, FullCompactionState? fresh = null, Action<int, long>? pushed = null)
    {
        await _manifestLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var set = _tables;
            var pick = Pick(set, force, fresh);
            if (pick is null)
            {
                return false;
            }

            fresh?.Pushed(pick.OutputLevel - 1, pick.OutputLevel, pick.IsMove, set.Levels[pick.OutputLevel].Count == 0);

            if (pick.IsMove)
            {
                MoveTables(pick.Inputs, pick.OutputLevel);
            }
            else
            {
                await CompactAsync(set, pick.Inputs, pick.OutputLevel, nowUnixMs, cancellationToken).ConfigureAwait(false);
                pushed?.Invoke(pick.OutputLevel, pick.Inputs.Sum(t => t.Size));
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
        var sealedOutputs = new List<SealedOutput>(); // fsyncs in flight while the merge goes on
        TableWriter? writer = null;
        var relocation = new Blobs.BlobRelocation(_blobs); // values moved out of mostly-dead value files
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
                    SealOutput(writer, id, sealedOutputs);
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
                else if (merged.IsBlobRef)
                {
                    // The pointer moves, not the value, unless its value file is mostly garbage (the value is then
                    // copied into this compaction's value file, so the old file can go).
                    writer.Add(merged.Key, relocation.Pointer(merged), merged.Version, expires, tombstone: false, blobRef: true);
                }
                else
                {
                    writer.Add(merged.Key, merged.Value.Span, merged.Version, expires, tombstone);
                }

                if (writer.EstimatedSize >= _options.TargetFileBytes)
                {
                    SealOutput(writer, id, sealedOutputs);
                    writer = null;
                }
            }

            if (writer is not null)
            {
                SealOutput(writer, id, sealedOutputs);
                writer = null;
            }

            relocation.Finish(); // durable before the manifest edit names a table pointing into it
            await CompleteOutputsAsync(sealedOutputs, outputLevel, outputs).ConfigureAwait(false);
        }
        catch
        {
            await DiscardSealedAsync(sealedOutputs).ConfigureAwait(false);
            DiscardOutputs(writer, outputs);
            if (writer is not null)
            {
                _fs.Delete(TablePath(_dir, id)); // the unfinished table
            }

            relocation.Release(); // abandoned: its value file is deleted
            throw;
        }

        var relocated = relocation.BytesWritten;
        relocation.Release(); // the output tables hold its value file now

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
        Interlocked.Add(ref _counters.CompactionBytesRead, inputs.Sum(t => t.Size));
        Interlocked.Add(ref _counters.CompactionBytesWritten, outputs.Sum(o => o.Record.Size) + relocated);
        LogCompacted(_logger, inputs.Count, outputs.Count, outputLevel);
    }
}
