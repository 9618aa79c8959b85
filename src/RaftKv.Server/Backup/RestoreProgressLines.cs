using System.Globalization;
using RaftKv.Replication.Backup;

namespace RaftKv.Server.Backup;

/// <summary>
/// A restore's progress as plain lines on stderr (<c>raftkv restore</c>, and through it <c>kvctl snapshot restore</c>):
/// one per phase per 10 %, the phase's last at 100 %, e.g. <c>restore: unpack 1048576 / 2097184 bytes (50%)</c>
/// (the same shape as kvctl's progress lines). Synchronous: the reports come in order on the restoring thread.
/// </summary>
public sealed class RestoreProgressLines(TextWriter error) : IProgress<RestoreProgress>, IProgress<(long Done, long Total)>
{
    private string? _phase;
    private long _lastDecile = -1;

    public void Report(RestoreProgress value)
    {
        if (value.Phase != _phase)
        {
            _phase = value.Phase;
            _lastDecile = -1;
        }

        var complete = value.Done >= value.Total;
        var percent = value.Total > 0 ? Math.Min(100, value.Done * 100 / value.Total) : 100;
        var decile = complete ? 10 : Math.Min(9, percent / 10);
        if (decile == _lastDecile)
        {
            return;
        }

        _lastDecile = decile;
        error.WriteLine(string.Create(CultureInfo.InvariantCulture, $"restore: {value.Phase} {value.Done} / {value.Total} {value.Unit} ({(complete ? 100 : percent)}%)"));
        error.Flush();
    }

    /// <summary>A download's bytes (<see cref="Tiering.Backups.BackupCatalog.DownloadAsync(Tiering.Backups.BackupManifest, string, IProgress{ValueTuple{long, long}}?, CancellationToken)"/>).</summary>
    public void Report((long Done, long Total) value) => Report(new RestoreProgress("download", value.Done, value.Total, "bytes"));
}
