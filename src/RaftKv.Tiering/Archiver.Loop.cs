using Microsoft.Extensions.Logging;
using RaftKv.Storage;

namespace RaftKv.Tiering;

public sealed partial class Archiver
{
    /// <summary>
    /// What to archive now, in order, leaving out <paramref name="tried"/> (tables this pass already tried):
    /// tables older than <see cref="TieringOptions.MigrationAge"/>, then, while local tables would still exceed
    /// <see cref="TieringOptions.DiskMaxBytes"/>, the deepest level first, oldest first within a level. The bottom
    /// level holds the coldest data and is rewritten least often (a table that a compaction soon merges comes back
    /// local; L0 tables last of all). The pressure estimate counts each chosen table's size, and the bytes it points at in value files, as freed; the pass
    /// selects again when it falls short (archived tables keep their tail and keys file locally).
    /// </summary>
    private List<TableInfo> SelectCandidates(IReadOnlySet<long> tried)
    {
        var local = _store.ListTables().Where(t => !t.IsRemote && !tried.Contains(t.Id)).OrderBy(t => t.CreatedUnixMs).ThenBy(t => t.Id).ToList();
        var chosen = new List<TableInfo>();
        if (_options.MigrationAge > TimeSpan.Zero)
        {
            var cutoff = _time.GetUtcNow().ToUnixTimeMilliseconds() - (long)_options.MigrationAge.TotalMilliseconds;
            chosen.AddRange(local.Where(t => t.CreatedUnixMs <= cutoff));
        }

        if (_options.DiskMaxBytes > 0)
        {
            var bytes = _store.LocalDiskBytes - chosen.Sum(t => t.SizeBytes + t.ValueFileBytes);
            foreach (var t in local.Except(chosen).OrderByDescending(t => t.Level).ThenBy(t => t.CreatedUnixMs).ThenBy(t => t.Id).ToList())
            {
                if (bytes <= _options.DiskMaxBytes)
                {
                    break;
                }

                chosen.Add(t);
                bytes -= t.SizeBytes + t.ValueFileBytes; // its values leave the value files too (inline in the object)
            }
        }

        return chosen;
    }

    private bool OverLimit => _options.DiskMaxBytes > 0 && _store.LocalDiskBytes > _options.DiskMaxBytes;

    /// <summary>
    /// The background loop: an interval pass (age, disk limit, orphan reconcile) every
    /// <see cref="TieringOptions.Interval"/>, and a disk-pressure pass whenever local tables exceed
    /// <see cref="TieringOptions.DiskMaxBytes"/>, woken by <see cref="ITieredStore.WhenTablesChange"/> (each flush,
    /// compaction or archive). A pressure pass that archives nothing (no local table left, or all gone meanwhile) is not repeated before the tables change again. On failure the loop waits
    /// (from the interval, doubling, at most 10 minutes) before any further pass.
    /// </summary>
    private async Task LoopAsync()
    {
        var token = _stop.Token;
        var nextTick = _time.GetUtcNow() + _options.Interval;
        var backoff = TimeSpan.Zero;
        var stalled = false;
        while (!token.IsCancellationRequested)
        {
            var changed = _store.WhenTablesChange; // before reading the state it guards
            try
            {
                var due = _time.GetUtcNow() >= nextTick;
                if (due || (!stalled && OverLimit))
                {
                    var result = await PassAsync(null, reconcile: due, requested: false, token).ConfigureAwait(false);
                    backoff = TimeSpan.Zero;
                    if (due)
                    {
                        nextTick = _time.GetUtcNow() + _options.Interval;
                    }

                    stalled = result.TablesMigrated == 0;
                    if (!stalled)
                    {
                        continue;
                    }
                }

                await WaitAsync(changed, nextTick - _time.GetUtcNow(), token).ConfigureAwait(false);
                stalled &= !changed.IsCompleted;
            }
            catch (OperationCanceledException) when (token.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e)
            {
                backoff = TimeSpan.FromTicks(Math.Min(Math.Max(backoff.Ticks * 2, _options.Interval.Ticks), TimeSpan.FromMinutes(10).Ticks));
                LogPassFailed(_logger, backoff.TotalSeconds, e.Message);
                try
                {
                    await Task.Delay(backoff, _time, token).ConfigureAwait(false);
                }
                catch (OperationCanceledException) when (token.IsCancellationRequested)
                {
                    return;
                }

                nextTick = _time.GetUtcNow(); // retry as an interval pass
            }
        }
    }

    /// <summary>Waits <paramref name="timeout"/>, or, when a disk limit is set, until <paramref name="changed"/>
    /// completes, whichever comes first.</summary>
    private async Task WaitAsync(Task changed, TimeSpan timeout, CancellationToken token)
    {
        if (timeout <= TimeSpan.Zero)
        {
            return;
        }

        if (_options.DiskMaxBytes <= 0)
        {
            await Task.Delay(timeout, _time, token).ConfigureAwait(false);
            return;
        }

        using var cts = CancellationTokenSource.CreateLinkedTokenSource(token);
        var delay = Task.Delay(timeout, _time, cts.Token);
        await Task.WhenAny(changed, delay).ConfigureAwait(false);
        await cts.CancelAsync().ConfigureAwait(false); // drop the timer
        token.ThrowIfCancellationRequested();
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Archiver pass failed; retrying in {Seconds}s: {Error}")]
    private static partial void LogPassFailed(ILogger logger, double seconds, string error);
}
