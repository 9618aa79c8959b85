using RaftKv.Replication;
using RaftKv.Server.Configuration;
using RaftKv.Server.Etcd;
using RaftKv.Server.Hosting;
using RaftKv.Tiering;
using RaftKv.Tiering.Backups;

namespace RaftKv.Server.Backup;

/// <summary>
/// Owns continuous backups when BACKUP_INTERVAL is set: a store on the backup bucket (same endpoint and
/// credentials as the archive tier) and the <see cref="BackupScheduler"/>, whose archive source is the tiering
/// store (archived tables are copied server-side). Registered after <see cref="NodeLifetime"/>, so it starts
/// after the node and stops before it.
/// </summary>
public sealed class BackupHost(KvNode node, EtcdIdentity identity, ServerConfig config, TieringSetup tiering, ILoggerFactory loggers) : IHostedService, IAsyncDisposable
{
    private S3ObjectStore? _store;
    private BackupScheduler? _scheduler;

    public bool Enabled => _scheduler is not null;

    public BackupScheduler? Scheduler => _scheduler;

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        if (!config.Backup.Enabled || tiering.Options is null)
        {
            return;
        }

        _store = new S3ObjectStore(tiering.Options with { Bucket = config.Backup.Bucket });
        try
        {
            await _store.EnsureBucketAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (RaftKv.Storage.RemoteTierUnavailableException e)
        {
            loggers.CreateLogger<BackupHost>().LogWarning(e, "Backup bucket not reachable at start-up; backups will retry");
        }

        var options = new BackupOptions
        {
            Interval = config.Backup.Interval,
            Retention = config.Backup.Retention,
            Layout = new BackupLayout(config.Backup.Prefix),
        };
        _scheduler = new BackupScheduler(new NodeBackupSource(node, identity), _store, tiering.Objects, options, TimeProvider.System, loggers.CreateLogger<BackupScheduler>());
        _scheduler.Start();
    }

    public async Task StopAsync(CancellationToken cancellationToken) => await DisposeAsync().ConfigureAwait(false);

    public BackupStats Stats() => _scheduler?.GetStats() ?? BackupStats.Disabled;

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _scheduler, null) is { } s)
        {
            await s.DisposeAsync().ConfigureAwait(false);
        }

        Interlocked.Exchange(ref _store, null)?.Dispose();
    }
}
