using RaftKv.Server.Configuration;

namespace RaftKv.Server.Hosting;

/// <summary>
/// When and to which revision auto-compaction compacts (etcd 3.4's compactors, pure logic: the caller passes the
/// clock and the node's revisions, every <see cref="Interval"/>).
/// <list type="bullet">
/// <item>Periodic (retention R): the compaction period is min(R, 1h); the revision is sampled every tenth of it;
/// once per period the store is compacted to the newest sample taken at least R ago (so history younger than R
/// is always kept, and nothing is compacted during the first R after start).</item>
/// <item>Revision (keep N): every 5 minutes, compact to current revision − N when that is above the compact
/// revision.</item>
/// </list>
/// Not thread-safe: one caller (<see cref="AutoCompactor"/>).
/// </summary>
public sealed class AutoCompactionPolicy
{
    /// <summary>etcd's revision compactor period.</summary>
    public static readonly TimeSpan RevisionModeInterval = TimeSpan.FromMinutes(5);

    private readonly AutoCompaction _settings;
    private readonly TimeSpan _period;
    private readonly Queue<(DateTimeOffset At, long Revision)> _samples = new();
    private DateTimeOffset _lastCompaction = DateTimeOffset.MinValue;
    private long _floor; // the newest sample at least Retention old (0 = none yet)

    public AutoCompactionPolicy(AutoCompaction settings, TimeSpan? revisionModeInterval = null)
    {
        _settings = settings;
        switch (settings.Mode)
        {
            case AutoCompactionMode.Periodic:
                _period = settings.Retention < TimeSpan.FromHours(1) ? settings.Retention : TimeSpan.FromHours(1);
                Interval = _period / 10 > TimeSpan.FromMilliseconds(100) ? _period / 10 : TimeSpan.FromMilliseconds(100);
                break;
            case AutoCompactionMode.Revision:
                Interval = revisionModeInterval ?? RevisionModeInterval;
                break;
            default:
                Interval = Timeout.InfiniteTimeSpan;
                break;
        }
    }

    /// <summary>How often <see cref="Tick"/> is called.</summary>
    public TimeSpan Interval { get; }

    /// <summary>One step at <paramref name="now"/>: the revision to compact to, or null for none.</summary>
    public long? Tick(DateTimeOffset now, long revision, long compactRevision)
    {
        switch (_settings.Mode)
        {
            case AutoCompactionMode.Periodic:
                _samples.Enqueue((now, revision));
                while (_samples.Count > 0 && _samples.Peek().At <= now - _settings.Retention)
                {
                    _floor = _samples.Dequeue().Revision; // the newest sample at least R old
                }

                if (_floor <= compactRevision || now - _lastCompaction < _period)
                {
                    return null;
                }

                _lastCompaction = now;
                return _floor;
            case AutoCompactionMode.Revision:
                var keep = revision - _settings.RetainRevisions;
                return keep > compactRevision && keep > 0 ? keep : null;
            default:
                return null;
        }
    }
}
