namespace RaftKv.Server.Etcd;

/// <summary>Bounds of one watch stream (<see cref="EtcdWatchSession"/>).</summary>
/// <param name="MaxPendingPerWatcher">Event responses of one watcher queued for the stream and not yet
/// written. A watcher that has this many waiting stops reading the history (nothing is lost: events
/// come from the history, not a ring buffer) until the stream takes them.</param>
/// <param name="SlowWatcherTimeout">How long a watcher may stay blocked on a full queue before it is
/// canceled with a <c>cancel_reason</c> saying so (the client re-watches from its last revision).</param>
/// <param name="ProgressNotifyInterval">How often a watcher created with progress_notify and without
/// events since gets an empty response carrying the revision it has reached (etcd's default: 10 minutes).</param>
/// <param name="MaxFragmentBytes">Above this size the events of one revision are split into several
/// responses for a watcher created with fragment (etcd's default request limit, 1.5 MiB).</param>
public sealed record EtcdWatchOptions(int MaxPendingPerWatcher, TimeSpan SlowWatcherTimeout, TimeSpan ProgressNotifyInterval, int MaxFragmentBytes)
{
    public static EtcdWatchOptions Default { get; } = new(64, TimeSpan.FromSeconds(60), TimeSpan.FromMinutes(10), (3 << 20) / 2);
}
