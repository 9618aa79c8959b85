using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace RaftKv.Replication.Diagnostics;

/// <summary>
/// Turns DotNext's per-round "Cluster member … is too far behind the leader" warning into a counter and a summary.
/// DotNext's leader runs one replication round at a time and gives each follower a queue of at most
/// <c>MaxReplicationLag</c> (16) rounds; a follower whose queue is full misses the round (it is sent the missed entries
/// with its next one) and DotNext logs that warning once per missed round. A follower a little slower than the other
/// (its fsync, the scheduler) does that hundreds of times a minute under a steady write load while the cluster is
/// healthy: the quorum is the leader and the faster follower. So the rounds are counted
/// (<see cref="SkippedRounds"/>, metric <c>raftkv_raft_slow_member_rounds_total</c>) and logged at most once per
/// <see cref="Interval"/> per member, with the count since the previous line; a member that stops answering is
/// still reported by DotNext's failure detection and by the node's health checks.
/// </summary>
/// <remarks>Thread-safe: DotNext logs from any thread; the counts are per member endpoint in a concurrent map, each
/// updated under its own lock.</remarks>
public sealed class SlowMemberLog
{
    /// <summary>DotNext's event id of the warning (<c>LogMessages.SlowMember</c>: its event id offset 74000 + 44).</summary>
    public const int EventId = 74044;

    /// <summary>At most one line per member per interval.</summary>
    public static readonly TimeSpan Interval = TimeSpan.FromMinutes(1);

    private readonly ConcurrentDictionary<string, Member> _members = new(StringComparer.Ordinal);
    private readonly TimeProvider _time;
    private long _skipped;

    public SlowMemberLog(TimeProvider time) => _time = time;

    /// <summary>Replication rounds the leader skipped for a follower too far behind (all members, since start).</summary>
    public long SkippedRounds => Interlocked.Read(ref _skipped);

    /// <summary>Wraps the factory given to DotNext: its loggers pass every message through but this warning.</summary>
    public ILoggerFactory Wrap(ILoggerFactory inner) => new Factory(inner, this);

    /// <summary>Counts one skipped round of <paramref name="member"/>; logs a summary on <paramref name="logger"/>
    /// if the member's last line is at least <see cref="Interval"/> old (or it has none).</summary>
    internal void Record(ILogger logger, string member)
    {
        Interlocked.Increment(ref _skipped);
        var m = _members.GetOrAdd(member, static _ => new Member());
        long count;
        lock (m)
        {
            m.Pending++;
            var now = _time.GetTimestamp();
            if (m.LastLogged != 0 && _time.GetElapsedTime(m.LastLogged, now) < Interval)
            {
                return;
            }

            count = m.Pending;
            m.Pending = 0;
            m.LastLogged = now;
        }

        if (!logger.IsEnabled(LogLevel.Warning))
        {
            return;
        }

        logger.LogWarning(
            new EventId(EventId, "SlowMember"), // DotNext's id, so that filters and searches written for it still find the line
            "Cluster member {Member} is too far behind the leader: {Rounds} replication round(s) skipped since the last such line (it gets their entries with its next round; at most one line per {Interval})",
            member,
            count,
            Interval);
    }

    /// <summary>Per-member state; guarded by its own monitor.</summary>
    private sealed class Member
    {
        public long Pending;
        public long LastLogged;
    }

    private sealed class Factory(ILoggerFactory inner, SlowMemberLog owner) : ILoggerFactory
    {
        public ILogger CreateLogger(string categoryName) => new Filter(inner.CreateLogger(categoryName), owner);

        public void AddProvider(ILoggerProvider provider) => inner.AddProvider(provider);

        public void Dispose()
        {
            // The inner factory belongs to the host.
        }
    }

    private sealed class Filter(ILogger inner, SlowMemberLog owner) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => inner.BeginScope(state);

        // Warnings are always taken so that the skipped rounds are counted at any log level; inner.Log drops what its filters disable.
        public bool IsEnabled(LogLevel logLevel) => logLevel == LogLevel.Warning || inner.IsEnabled(logLevel);

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (eventId.Id == EventId)
            {
                owner.Record(inner, MemberOf(state));
                return;
            }

            inner.Log(logLevel, eventId, state, exception, formatter);
        }

        /// <summary>The message's <c>Member</c> argument (LoggerMessage state is a list of name/value pairs).</summary>
        private static string MemberOf<TState>(TState state)
        {
            if (state is IReadOnlyList<KeyValuePair<string, object?>> values)
            {
                foreach (var (name, value) in values)
                {
                    if (name == "Member")
                    {
                        return value?.ToString() ?? "?";
                    }
                }
            }

            return "?";
        }
    }
}
