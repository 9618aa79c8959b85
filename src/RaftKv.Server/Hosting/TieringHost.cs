using RaftKv.Replication;
using RaftKv.Tiering;

namespace RaftKv.Server.Hosting;

/// <summary>Owns the optional cold tier: the S3 store and the archiver over the node's LSM. The
/// single place where tiering is wired into the server.</summary>
public sealed class TieringHost : IAsyncDisposable
{
    /// <summary>Cancelled at dispose: ends the background bucket creation (never disposed: a second dispose may cancel it again).</summary>
    private readonly CancellationTokenSource _stop = new();
    private S3ObjectStore? _objects;
    private Archiver? _archiver;

    /// <summary>The background bucket creation (<see cref="RetryBucketAsync"/>); completed when there is none.</summary>
    private Task _bucket = Task.CompletedTask;

    public bool Enabled => _archiver is not null;

    /// <summary>What the last calls to the object store said; null without one.</summary>
    public ObjectStoreStatus? ObjectStore => Volatile.Read(ref _objects)?.Status;

    /// <summary><see cref="ObjectStore"/> as <c>/health</c> and <c>/stats</c> show it (snake_case), or null.</summary>
    public object? ObjectStoreJson() => ObjectStore is { } o
        ? new { reachable = o.Reachable, last_error = o.LastError, last_error_at = o.LastErrorAt, last_success_at = o.LastSuccessAt }
        : null;

    public async Task StartAsync(KvNode node, S3ObjectStore? objects, TieringOptions? options, ILoggerFactory loggers, CancellationToken cancellationToken)
    {
        if (objects is null || options is null)
        {
            return;
        }

        _objects = objects;
        var logger = loggers.CreateLogger<TieringHost>();
        using (var first = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken))
        {
            first.CancelAfter(FirstBucketAttempt);
            try
            {
                await objects.EnsureBucketAsync(first.Token).ConfigureAwait(false); // reachable: the bucket exists before the archiver's first pass
            }
            catch (Exception e) when (e is RaftKv.Storage.RemoteTierUnavailableException || (e is OperationCanceledException && !cancellationToken.IsCancellationRequested))
            {
                logger.LogWarning("Object store not reachable at start-up ({Error}); the node serves its local data, and archiving and reads of archived tables wait for it (retrying)", e is OperationCanceledException ? $"no answer within {FirstBucketAttempt.TotalSeconds:F0} s" : e.Message);
                _bucket = RetryBucketAsync(objects, logger, _stop.Token); // in the background: the node serves meanwhile
            }
        }

        _archiver = new Archiver(node.TieredStore, objects, options, TimeProvider.System, loggers.CreateLogger<Archiver>());
        await _archiver.StartAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>How long the start waits for the object store to create the bucket: the SDK's own retries made a node whose
    /// object store was down wait ~10 s before it served.</summary>
    private static readonly TimeSpan FirstBucketAttempt = TimeSpan.FromSeconds(2);

    /// <summary>Creates the bucket once the object store answers, retrying with backoff (1 s doubling to 30 s) until then
    /// or until dispose. The archiver's passes fail and retry meanwhile.</summary>
    private static async Task RetryBucketAsync(S3ObjectStore objects, ILogger logger, CancellationToken stop)
    {
        var delay = TimeSpan.FromSeconds(1);
        for (var attempt = 2; ; attempt++)
        {
            try
            {
                await Task.Delay(delay, stop).ConfigureAwait(false);
                await objects.EnsureBucketAsync(stop).ConfigureAwait(false);
                logger.LogInformation("Object store reachable: bucket ready after {Attempts} attempts", attempt);
                return;
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested)
            {
                return;
            }
            catch (RaftKv.Storage.RemoteTierUnavailableException)
            {
                delay = TimeSpan.FromSeconds(Math.Min(delay.TotalSeconds * 2, 30)); // still unreachable
            }
        }
    }

    public Task<MigrationResult> RunOnceAsync(CancellationToken cancellationToken)
        => _archiver?.RunOnceAsync(cancellationToken) ?? Task.FromResult(new MigrationResult(0, 0));

    public ArchiverStats Stats() => _archiver?.GetStats() ?? ArchiverStats.Disabled;

    /// <summary>The running archiver pass's progress (manual or scheduled), or the last one's; null before any.</summary>
    public MigrationProgress? Progress => _archiver?.Progress;

    /// <summary>Idempotent: <see cref="NodeLifetime"/> disposes it at stop and the container again at exit (a second
    /// <see cref="Archiver.DisposeAsync"/> would cancel a disposed token source and crash the process, exit 134).</summary>
    public async ValueTask DisposeAsync()
    {
        if (!_stop.IsCancellationRequested)
        {
            await _stop.CancelAsync().ConfigureAwait(false);
        }

        await _bucket.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        if (Interlocked.Exchange(ref _archiver, null) is { } archiver)
        {
            await archiver.DisposeAsync().ConfigureAwait(false);
        }

        Interlocked.Exchange(ref _objects, null)?.Dispose();
    }
}
