using System.Diagnostics;

namespace RaftKv.Server.Observability;

/// <summary>A running <see cref="OperationMetrics.Time"/>: disposing it records the elapsed time once.</summary>
public readonly struct OperationTimer(string api, string op, long startTimestamp) : IDisposable
{
    public void Dispose() => OperationMetrics.RecordDuration(api, op, Stopwatch.GetElapsedTime(startTimestamp));
}
