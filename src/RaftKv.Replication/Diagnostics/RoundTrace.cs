using System.Diagnostics;

namespace RaftKv.Replication.Diagnostics;

/// <summary>
/// Opt-in timestamps of the steps of a write round, for finding where a put's latency goes (issue #18: "count the
/// hops … between request arrival and response for one put on the leader, and on a follower"). Off unless the
/// process starts with <c>RAFTKV_ROUND_TRACE=PREFIX</c>; then every <see cref="Mark"/> appends one line to
/// <c>PREFIX.PID</c>, written out every 500 ms. Not for production: the file grows by a line per step per write.
/// </summary>
/// <remarks>
/// <para><b>Format</b> (version 1, one line per step, space-separated): <c>point index timestamp</c> — <c>point</c> is
/// one of the <see cref="Point"/> names, <c>index</c> the Raft index it concerns (0 when not known yet: the request
/// steps before an index is assigned), <c>timestamp</c> <see cref="Stopwatch.GetTimestamp"/> (CLOCK_MONOTONIC on
/// Linux, nanoseconds, comparable between processes on one machine). <c>bench/round-trace.sh</c> runs a traced
/// cluster and <c>bench/round-trace.py</c> joins the members' files by index into per-hop latencies.</para>
/// <para>Disabled, <see cref="Mark"/> is a test of a static read-only field that the JIT folds away. Thread-safe: a
/// lock serializes writers (tracing a loaded node perturbs it; trace at one client).</para>
/// </remarks>
public static class RoundTrace
{
    private static readonly StreamWriter? Out = Open(Environment.GetEnvironmentVariable("RAFTKV_ROUND_TRACE"));
    private static readonly Lock Gate = new();
    // Held here so that the timer stays alive; never read.
    private static readonly Timer? Flusher = Out is null ? null : new Timer(_ => Flush(), null, 500, 500);

    /// <summary>The traced steps.</summary>
    public enum Point
    {
        /// <summary>Leader: a client's write request reached the etcd API handler.</summary>
        Received,

        /// <summary>Leader: the entry is in the log (index assigned; the flusher is asked to run).</summary>
        Appended,

        /// <summary>Leader: DotNext read entries up to this index to send them to a follower.</summary>
        ReadForReplication,

        /// <summary>Follower: an AppendEntries call starting at this index reached the log.</summary>
        FollowerReceived,

        /// <summary>Follower: every entry up to this index is durable (fsynced on the AppendEntries call).</summary>
        FollowerDurable,

        /// <summary>Leader: the flusher made every entry up to this index durable.</summary>
        LeaderDurable,

        /// <summary>Leader: DotNext asked to commit up to this index (a quorum has it).</summary>
        CommitRequested,

        /// <summary>Leader or follower: the commit index moved to this index.</summary>
        Committed,

        /// <summary>Leader or follower: this entry is applied to the state machine.</summary>
        Applied,

        /// <summary>Leader: the proposer's write completed (its result is known).</summary>
        Completed,

        /// <summary>Leader: the etcd API handler returns its response.</summary>
        Responded,

        /// <summary>Leader: DotNext received a follower's answer to an AppendEntries call (index: the follower's Raft port,
        /// not a Raft index — DotNext reports the answer to a failure detector, <see cref="ReplyTracer"/>).</summary>
        ReplyReceived,
    }

    /// <summary>Whether tracing is on (<c>RAFTKV_ROUND_TRACE</c> set).</summary>
    public static bool Enabled => Out is not null;

    /// <summary>Records <paramref name="point"/> for <paramref name="index"/> now (no-op unless tracing is on).</summary>
    public static void Mark(Point point, long index)
    {
        if (Out is null)
        {
            return;
        }

        var now = Stopwatch.GetTimestamp();
        lock (Gate)
        {
            Out.Write(point.ToString());
            Out.Write(' ');
            Out.Write(index);
            Out.Write(' ');
            Out.WriteLine(now);
        }
    }

    private static StreamWriter? Open(string? prefix)
        => string.IsNullOrEmpty(prefix) ? null : new StreamWriter($"{prefix}.{Environment.ProcessId}", append: false);

    private static void Flush()
    {
        lock (Gate)
        {
            Out?.Flush();
        }
    }
}
