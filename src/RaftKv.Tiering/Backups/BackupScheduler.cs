using System.Diagnostics;
using Microsoft.Extensions.Logging;

namespace RaftKv.Tiering.Backups;

/// <summary>
/// Continuous backups: on the backup node (the leader), a backup (<see cref="BackupWriter"/>) whenever the
/// newest backup of this cluster in the bucket is older than <see cref="BackupOptions.Interval"/>, then retention
/// (<see cref="BackupCatalog.ApplyRetentionAsync"/>). Every node reads its cluster's newest manifest each tick, so a
/// new leader continues the schedule where the old one left it and <c>/stats</c> shows the backup age everywhere.
/// "This cluster" is the replicated cluster uid (<see cref="IBackupCheckpointSource.ClusterUid"/>): other clusters'
/// backups under the same prefix and legacy ones (no uid) are never taken for this cluster's newest, nor deleted by its
/// retention. Until the cluster has a uid no backup is taken: the pass waits, logs it once and says so in
/// <see cref="BackupStats.WaitingForClusterUid"/>.
/// </summary>
/// <remarks>Passes of one process never overlap (<c>_pass</c>); a scheduled pass decides whether a backup is due
/// again once it holds <c>_pass</c>, so one queued behind a manual backup (<see cref="RunOnceAsync"/>) does not take a
/// second one. Two nodes that both believe they lead write
/// two backups with different ids (never the same manifest); each checks leadership again before writing
/// its manifest. A failed pass is retried after a back-off (doubling from one tick up to the interval).</remarks>
public sealed partial class BackupScheduler : IAsyncDisposable
{
    private readonly IBackupCheckpointSource _source;
    private readonly BackupWriter _writer;
    private readonly BackupCatalog _catalog;
    private readonly BackupOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger<BackupScheduler> _logger;
    private readonly SemaphoreSlim _pass = new(1, 1);
    private readonly CancellationTokenSource _stop = new();
    private readonly BackupMetrics _metrics;
    private Task _loop = Task.CompletedTask;
    private volatile BackupManifest? _newest;
    private volatile int _retained;
    private long _taken;
    private long _failures;
    private double? _lastDuration;
    private volatile string? _lastError;
    private volatile BackupProgress? _progress;
    private volatile bool _waitingForUid;

    public BackupScheduler(IBackupCheckpointSource source, IObjectStore backups, IObjectStore? archive, BackupOptions options, TimeProvider time, ILogger<BackupScheduler> logger)
    {
        _source = source;
        _writer = new BackupWriter(backups, archive, options.Layout);
        _catalog = new BackupCatalog(backups, options.Layout);
        _options = options;
        _time = time;
        _logger = logger;
        _metrics = new BackupMetrics(GetStats);
    }

    public BackupCatalog Catalog => _catalog;

    /// <summary>Whether a pass (backup and retention) is running now.</summary>
    public bool PassInProgress => _pass.CurrentCount == 0;

    public void Start() => _loop = Task.Run(LoopAsync, CancellationToken.None);

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync().ConfigureAwait(false);
        await _loop.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        _metrics.Dispose();
        _stop.Dispose();
    }

    public BackupStats GetStats()
    {
        var newest = _newest;
        return new BackupStats
        {
            Enabled = true,
            ClusterUid = _source.ClusterUid,
            WaitingForClusterUid = _waitingForUid,
            Newest = newest,
            AgeSeconds = newest is null ? null : Math.Max(0, (_time.GetUtcNow() - newest.Created).TotalSeconds),
            Retained = _retained,
            Taken = Interlocked.Read(ref _taken),
            Failures = Interlocked.Read(ref _failures),
            LastDurationSeconds = _lastDuration,
            LastError = _lastError,
        };
    }

    /// <summary>The running backup's progress on this node (manual or scheduled), or the last one's (null before any).
    /// Running until the retention that follows the backup is applied too.</summary>
    public BackupProgress? Progress => _progress;

    /// <summary>Takes one backup now (on this node, whatever the schedule), then applies the retention.</summary>
    /// <exception cref="BackupException">The backup was abandoned (<see cref="BackupError"/> says why).</exception>
    /// <remarks>A cluster that has no cluster uid yet (a leader elected a moment ago proposes one within a metadata round)
    /// is waited for up to <see cref="UidWait"/>, then refused with <see cref="BackupError.ClusterUidUnknown"/>.</remarks>
    public async Task<BackupManifest> RunOnceAsync(CancellationToken cancellationToken = default)
    {
        var deadline = _time.GetUtcNow() + UidWait;
        while (_source.ClusterUid is null && _time.GetUtcNow() < deadline)
        {
            await Task.Delay(TimeSpan.FromMilliseconds(100), _time, cancellationToken).ConfigureAwait(false);
        }

        return (await RunPassAsync(onlyIfDue: false, cancellationToken).ConfigureAwait(false))!;
    }

    /// <summary>How long a manual backup waits for the cluster uid of a cluster that has none yet.</summary>
    public TimeSpan UidWait { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>Whether the schedule wants a backup at <paramref name="now"/> (none yet, or the newest is an interval old).</summary>
    private bool IsDue(DateTimeOffset now) => _newest is not { } newest || now - newest.Created >= _options.Interval;

    /// <summary>One pass under <c>_pass</c>. <paramref name="onlyIfDue"/> (the schedule): decided again under the lock,
    /// on the bucket's newest manifest, since a manual backup may have landed while this pass waited for it (a
    /// second backup right after it would become the newest, the one a restore picks); null when not due.</summary>
    private async Task<BackupManifest?> RunPassAsync(bool onlyIfDue, CancellationToken cancellationToken)
    {
        await _pass.WaitAsync(cancellationToken).ConfigureAwait(false);
        if (_source.ClusterUid is not { } clusterUid)
        {
            _pass.Release();
            _waitingForUid = true;
            return onlyIfDue ? null : throw new BackupException(BackupError.ClusterUidUnknown, "the cluster has no cluster uid yet (its leader proposes one once every member runs a release that supports it); no backup is taken until it has one");
        }

        if (onlyIfDue)
        {
            try
            {
                _newest = await NewestAsync(cancellationToken).ConfigureAwait(false) ?? _newest;
                if (!IsDue(_time.GetUtcNow()) || !_source.IsBackupNode)
                {
                    _pass.Release();
                    return null;
                }
            }
            catch
            {
                _pass.Release();
                throw;
            }
        }

        var begun = _time.GetUtcNow();
        var progress = new BackupProgress(true, 0, 0, 0, 0, 0, begun, null, null, null);
        _progress = progress;
        try
        {
            var started = Stopwatch.GetTimestamp();
            BackupManifest manifest;
            using (var checkpoint = await _source.TakeCheckpointAsync(cancellationToken).ConfigureAwait(false))
            {
                var sink = new ProgressSink<BackupProgress>(p => _progress = progress = p with { Started = begun });
                manifest = await _writer.WriteAsync(checkpoint, () => _source.IsBackupNode, sink, cancellationToken).ConfigureAwait(false);
            }

            var seconds = Stopwatch.GetElapsedTime(started).TotalSeconds;
            _lastDuration = seconds;
            _newest = manifest;
            Interlocked.Increment(ref _taken);
            _metrics.Taken.Add(1);
            _metrics.Uploaded.Add(manifest.UploadedBytes);
            _metrics.Duration.Record(seconds);
            LogTaken(_logger, manifest.Id, manifest.Revision, manifest.DataBytes, manifest.UploadedBytes, seconds);
            var gc = await _catalog.ApplyRetentionAsync(_options.Retention, clusterUid, _time.GetUtcNow(), _options.Grace, _options.PendingExpiry, cancellationToken).ConfigureAwait(false);
            _retained = gc.Retained.Count;
            if (gc.BackupsDeleted + gc.TablesDeleted > 0)
            {
                LogRetention(_logger, gc.BackupsDeleted, gc.TablesDeleted, gc.BytesDeleted, _options.Retention.ToString());
            }

            _lastError = null;
            _progress = progress with { Running = false, Finished = _time.GetUtcNow(), BackupId = manifest.Id };
            return manifest;
        }
        catch (Exception e)
        {
            _progress = progress with { Running = false, Finished = _time.GetUtcNow(), Error = e.Message };
            if (e is not OperationCanceledException)
            {
                Interlocked.Increment(ref _failures);
                _metrics.Failures.Add(1);
                _lastError = e.Message;
            }

            throw;
        }
        finally
        {
            _pass.Release();
        }
    }

    private async Task LoopAsync()
    {
        var token = _stop.Token;
        var tick = _options.Interval < _options.Tick ? _options.Interval : _options.Tick;
        var backoff = tick;
        var retryAt = DateTimeOffset.MinValue;
        var uidWaitLogged = false;
        while (!token.IsCancellationRequested)
        {
            try
            {
                await Task.Delay(tick, _time, token).ConfigureAwait(false);
                _newest = await NewestAsync(token).ConfigureAwait(false) ?? _newest;
                var now = _time.GetUtcNow();
                if (_source.ClusterUid is null)
                {
                    if (!uidWaitLogged && _source.IsBackupNode)
                    {
                        LogWaitingForUid(_logger); // once per wait, on the node that would take the backups
                        uidWaitLogged = true;
                    }

                    _waitingForUid = true;
                    continue;
                }

                _waitingForUid = false;
                uidWaitLogged = false;
                if (IsDue(now) && now >= retryAt && _source.IsBackupNode)
                {
                    await RunPassAsync(onlyIfDue: true, token).ConfigureAwait(false);
                    backoff = tick;
                }
            }
            catch (OperationCanceledException) when (token.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e)
            {
                retryAt = _time.GetUtcNow() + backoff;
                LogPassFailed(_logger, backoff.TotalSeconds, e.Message);
                backoff = TimeSpan.FromTicks(Math.Min(backoff.Ticks * 2, Math.Max(tick.Ticks, _options.Interval.Ticks)));
            }
        }
    }

    private async Task<BackupManifest?> NewestAsync(CancellationToken cancellationToken)
    {
        // Unreadable manifests are skipped (a damaged newest manifest must not stop new backups); so are other
        // clusters' and legacy ones: never this cluster's newest.
        return _source.ClusterUid is { } uid ? await _catalog.NewestOfAsync(uid, cancellationToken).ConfigureAwait(false) : null;
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Backup {Id} taken: revision {Revision}, {Bytes} bytes, {Uploaded} uploaded, {Seconds:0.###}s")]
    private static partial void LogTaken(ILogger logger, string id, long revision, long bytes, long uploaded, double seconds);

    [LoggerMessage(Level = LogLevel.Information, Message = "Backup retention ({Retention}): deleted {Backups} backups and {Tables} unreferenced tables ({Bytes} bytes)")]
    private static partial void LogRetention(ILogger logger, int backups, int tables, long bytes, string retention);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Backups wait: the cluster has no cluster uid yet (its leader proposes one once every member runs a release that supports it)")]
    private static partial void LogWaitingForUid(ILogger logger);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Backup pass failed; retrying in {Seconds}s: {Error}")]
    private static partial void LogPassFailed(ILogger logger, double seconds, string error);
}
