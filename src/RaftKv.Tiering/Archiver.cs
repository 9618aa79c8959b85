using System.Globalization;
using Microsoft.Extensions.Logging;
using RaftKv.Storage;

namespace RaftKv.Tiering;

/// <summary>
/// Moves cold SSTables to object storage in the background, per node (objects under
/// <see cref="TieringOptions.NodePrefix"/>). A table is archived when it is older than
/// <see cref="TieringOptions.MigrationAge"/> (checked every <see cref="TieringOptions.Interval"/>), and
/// tables are archived while local tables exceed <see cref="TieringOptions.DiskMaxBytes"/> (deepest level
/// first) — checked at every change of the store's tables, so archiving follows a load as it lands instead of
/// waiting for the next interval (Archiver.Loop.cs). The engine's
/// <see cref="ITieredStore.ArchiveTableAsync"/> does upload → verify → durable manifest edit →
/// local delete; a crash between upload and manifest leaves an unreferenced object that
/// <see cref="ReconcileAsync"/> deletes once it is older than the grace period.
/// </summary>
/// <remarks>Passes never overlap (<c>_pass</c>); on failure the loop backs off exponentially (from the interval) up to
/// 10 minutes. Orphan objects are reconciled by interval passes and manual passes, not by disk-pressure passes (one
/// LIST of the node's prefix per interval, however busy the store).</remarks>
public sealed partial class Archiver : IAsyncDisposable
{
    private readonly ITieredStore _store;
    private readonly IObjectStore _objects;
    private readonly TieringOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger<Archiver> _logger;
    private readonly SemaphoreSlim _pass = new(1, 1);
    private readonly CancellationTokenSource _stop = new();
    private Task _loop = Task.CompletedTask;
    private long _migrations;
    private long _bytesUploaded;
    private long _errors;
    private string? _lastError;
    private volatile MigrationProgress? _progress;

    public Archiver(ITieredStore store, IObjectStore objects, TieringOptions options, TimeProvider time, ILogger<Archiver> logger)
    {
        _store = store;
        _objects = objects;
        _options = options;
        _time = time;
        _logger = logger;
    }

    public Task StartAsync(CancellationToken cancellationToken = default)
    {
        _loop = Task.Run(LoopAsync, CancellationToken.None);
        return Task.CompletedTask;
    }

    public async Task StopAsync(CancellationToken cancellationToken = default)
    {
        await _stop.CancelAsync().ConfigureAwait(false);
        await _loop.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync().ConfigureAwait(false);
        _stop.Dispose();
    }

    public ArchiverStats GetStats()
    {
        var remote = _store.ListTables().Where(t => t.IsRemote).ToList();
        return new ArchiverStats
        {
            MigrationsCompleted = Interlocked.Read(ref _migrations),
            BytesUploaded = Interlocked.Read(ref _bytesUploaded),
            BytesFetched = (_objects as S3ObjectStore)?.BytesFetched ?? 0,
            Errors = Interlocked.Read(ref _errors),
            RemoteTables = remote.Count,
            RemoteBytes = remote.Sum(t => t.SizeBytes),
            LastError = _lastError,
        };
    }

    /// <summary>The object key of a table of this node.</summary>
    public string ObjectName(long tableId) => string.Create(CultureInfo.InvariantCulture, $"{_options.NodePrefix}sst/{tableId:D8}.sst");

    /// <summary>One pass: archive what the policy selects, then clean up orphans.</summary>
    public Task<MigrationResult> RunOnceAsync(CancellationToken cancellationToken = default) => RunOnceAsync(null, cancellationToken);

    /// <summary>The running pass's progress, or the last pass's (null before any pass); background passes that find
    /// nothing to archive are not shown (<see cref="PassAsync"/>).</summary>
    public MigrationProgress? Progress => _progress;

    /// <summary>One pass, reporting to <paramref name="progress"/> (synchronously) and to <see cref="Progress"/>
    /// once the tables are selected and after each table archived.</summary>
    public Task<MigrationResult> RunOnceAsync(IProgress<MigrationProgress>? progress, CancellationToken cancellationToken = default)
        => PassAsync(progress, reconcile: true, requested: true, cancellationToken);

    /// <summary>One pass: archives what the policy selects, in rounds, then reconciles orphans if
    /// <paramref name="reconcile"/>. After a round that archived at least one table, the pass selects again while
    /// local tables still exceed the limit (tables flushed or compacted during the pass count too). It ends after
    /// a round that archived nothing (every table it tried was compacted away or archived meanwhile), or when no
    /// local table it has not tried is left: a table is tried once per pass, and what remains then (archived
    /// tables' tails and keys files, tables that changed under it) is not archivable by this pass, so a limit
    /// below that cannot keep a pass running. The next table change starts a new pass
    /// (<see cref="LoopAsync"/>).</summary>
    /// <remarks><see cref="Progress"/> shows a <paramref name="requested"/> pass (<see cref="RunOnceAsync(CancellationToken)"/>), a
    /// background pass that selected at least one table, and any failed pass. A background pass that finds nothing
    /// to archive leaves it alone: under a limit below what archived tables keep locally, such a pass follows every
    /// table change (its own archives included), and would replace the last real run's counters with 0 of 0 at once
    /// (the Maintenance page showed "Last run done: 0 of 0" beside "Archived 6 table(s)").</remarks>
    private async Task<MigrationResult> PassAsync(IProgress<MigrationProgress>? progress, bool reconcile, bool requested, CancellationToken cancellationToken)
    {
        await _pass.WaitAsync(cancellationToken).ConfigureAwait(false);
        var p = new MigrationProgress(true, 0, 0, 0, 0, _time.GetUtcNow(), null, null);
        var publish = requested;
        void Report(MigrationProgress next)
        {
            p = next;
            if (publish)
            {
                _progress = next;
            }

            progress?.Report(next);
        }

        try
        {
            var migrated = 0;
            var roundStart = 0; // migrated before the current round
            long bytes = 0;
            var tried = new HashSet<long>();
            var candidates = SelectCandidates(tried);
            publish |= candidates.Count > 0;
            Report(p with { TablesTotal = candidates.Count, BytesTotal = candidates.Sum(t => t.SizeBytes) });
            for (var i = 0; i < candidates.Count; i++)
            {
                var table = candidates[i];
                tried.Add(table.Id);
                cancellationToken.ThrowIfCancellationRequested();
                if (await _store.ArchiveTableAsync(table.Id, ObjectName(table.Id), cancellationToken).ConfigureAwait(false))
                {
                    migrated++;
                    bytes += table.SizeBytes;
                    Interlocked.Increment(ref _migrations);
                    Interlocked.Add(ref _bytesUploaded, table.SizeBytes);
                    TieringMetrics.Migrations.Add(1);
                    TieringMetrics.BytesUploaded.Add(table.SizeBytes);
                    LogArchived(_logger, table.Id, table.SizeBytes, ObjectName(table.Id));
                    Report(p with { TablesDone = migrated, BytesDone = bytes });
                }
                else
                {
                    // Gone meanwhile (compacted away, or archived already): not to do any more.
                    Report(p with { TablesTotal = p.TablesTotal - 1, BytesTotal = p.BytesTotal - table.SizeBytes });
                }

                if (i == candidates.Count - 1 && migrated > roundStart && SelectCandidates(tried) is { Count: > 0 } more)
                {
                    // The round archived something and local tables are still over the limit (the estimate was
                    // short, or the load went on): the next round.
                    roundStart = migrated;
                    candidates.AddRange(more);
                    Report(p with { TablesTotal = p.TablesTotal + more.Count, BytesTotal = p.BytesTotal + more.Sum(t => t.SizeBytes) });
                }
            }

            if (reconcile)
            {
                await ReconcileAsync(cancellationToken).ConfigureAwait(false);
            }

            Report(p with { Running = false, Finished = _time.GetUtcNow() });
            return new MigrationResult(migrated, bytes);
        }
        catch (Exception e)
        {
            publish = true; // a failure always shows
            Report(p with { Running = false, Finished = _time.GetUtcNow(), Error = e.Message });
            if (e is not OperationCanceledException)
            {
                Interlocked.Increment(ref _errors);
                TieringMetrics.Errors.Add(1);
                _lastError = e.Message;
            }

            throw;
        }
        finally
        {
            _pass.Release();
        }
    }

    /// <summary>Deletes objects under this node's prefix that no live table references and that are
    /// older than the grace period (so an upload in flight is never removed).</summary>
    public async Task<int> ReconcileAsync(CancellationToken cancellationToken = default)
    {
        var referenced = _store.ListTables().Where(t => t.IsRemote).Select(t => t.ObjectName!).ToHashSet(StringComparer.Ordinal);
        var now = _time.GetUtcNow();
        var deleted = 0;
        foreach (var o in await _objects.ListAsync(_options.NodePrefix + "sst/", cancellationToken).ConfigureAwait(false))
        {
            if (!referenced.Contains(o.Key) && now - o.LastModified > _options.OrphanGrace)
            {
                await _objects.DeleteAsync(o.Key, cancellationToken).ConfigureAwait(false);
                deleted++;
            }
        }

        return deleted;
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Archived table {TableId} ({Bytes} bytes) as {ObjectName}")]
    private static partial void LogArchived(ILogger logger, long tableId, long bytes, string objectName);
}
