using RaftKv.Replication;
using RaftKv.Tiering;

namespace RaftKv.Server.Hosting;

/// <summary>Owns the optional cold tier: the S3 store and the archiver over the node's LSM. The
/// single place where tiering is wired into the server.</summary>
public sealed class TieringHost : IAsyncDisposable
{
    private S3ObjectStore? _objects;
    private Archiver? _archiver;

    public bool Enabled => _archiver is not null;

    public async Task StartAsync(KvNode node, S3ObjectStore? objects, TieringOptions? options, ILoggerFactory loggers, CancellationToken cancellationToken)
    {
        if (objects is null || options is null)
        {
            return;
        }

        _objects = objects;
        try
        {
            await objects.EnsureBucketAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (RaftKv.Storage.RemoteTierUnavailableException e)
        {
            loggers.CreateLogger<TieringHost>().LogWarning(e, "Object store not reachable at start-up; the archiver will retry");
        }

        _archiver = new Archiver(node.TieredStore, objects, options, TimeProvider.System, loggers.CreateLogger<Archiver>());
        await _archiver.StartAsync(cancellationToken).ConfigureAwait(false);
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
        if (Interlocked.Exchange(ref _archiver, null) is { } archiver)
        {
            await archiver.DisposeAsync().ConfigureAwait(false);
        }

        Interlocked.Exchange(ref _objects, null)?.Dispose();
    }
}
