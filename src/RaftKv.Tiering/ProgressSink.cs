namespace RaftKv.Tiering;

/// <summary>An <see cref="IProgress{T}"/> that calls its action synchronously on the reporting thread (unlike
/// <see cref="Progress{T}"/>, which posts to a synchronization context or the thread pool, so reports could be
/// seen out of order or after the work returned).</summary>
public sealed class ProgressSink<T>(Action<T> report) : IProgress<T>
{
    public void Report(T value) => report(value);
}
