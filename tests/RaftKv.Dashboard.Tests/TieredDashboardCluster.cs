using RaftKv.Tiering.Tests;

namespace RaftKv.Dashboard.Tests;

/// <summary>A <see cref="DashboardCluster"/> archiving to a real S3 server (Ceph RGW, started for the class) with
/// continuous backups on (<c>BACKUP_INTERVAL=1h</c>: only the backups taken on demand), and every flushed table
/// archived on the next archiver pass (<c>DISK_MAX_SIZE_GB</c> ~1 byte).</summary>
public sealed class TieredDashboardCluster : IAsyncLifetime
{
    private readonly RgwFixture _rgw = new();
    private DashboardCluster? _inner;

    public DashboardCluster Inner => _inner ?? throw new InvalidOperationException("not started");

    public Task InitializeAsync()
    {
        _inner = new DashboardCluster(new Dictionary<string, string>
        {
            ["S3_ENDPOINT"] = _rgw.Endpoint,
            ["S3_BUCKET"] = "dash-" + Guid.NewGuid().ToString("N")[..10],
            ["S3_ACCESS_KEY"] = "testaccess",
            ["S3_SECRET_KEY"] = "testsecret123",
            ["BACKUP_INTERVAL"] = "1h",
            ["DISK_MAX_SIZE_GB"] = "0.000000001",
        });
        return _inner.InitializeAsync();
    }

    public async Task DisposeAsync()
    {
        if (_inner is not null)
        {
            await _inner.DisposeAsync();
        }

        _rgw.Dispose();
    }
}
