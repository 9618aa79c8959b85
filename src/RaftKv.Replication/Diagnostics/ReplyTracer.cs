using DotNext.Diagnostics;

namespace RaftKv.Replication.Diagnostics;

/// <summary>
/// With <see cref="RoundTrace"/> on, the leader's failure detector for one follower: DotNext calls
/// <see cref="ReportHeartbeat"/> right after each answer of that follower to an AppendEntries call, which is the one
/// point of a round inside DotNext's leader that a trace can see (<see cref="RoundTrace.Point.ReplyReceived"/>). It
/// never reports a member unhealthy. Not installed unless tracing is on.
/// </summary>
internal sealed class ReplyTracer(long raftPort) : IFailureDetector
{
    public bool IsHealthy => true;

    public bool IsMonitoring => true;

    public void ReportHeartbeat() => RoundTrace.Mark(RoundTrace.Point.ReplyReceived, raftPort);

    public void Reset()
    {
    }
}
