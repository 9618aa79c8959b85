namespace RaftKv.Tiering.Tests.Backups;

/// <summary>
/// An object store whose process "dies" at its <c>crashAt</c>-th mutating call (put, copy, delete): that
/// call and every later one fail with <see cref="SimulatedCrashException"/>, so nothing the writer would do
/// afterwards (its clean-up included) reaches the bucket — what a SIGKILL mid-backup leaves behind.
/// Reads pass through until the crash.
/// </summary>
internal sealed class CrashingObjectStore(IObjectStore inner, int crashAt) : IObjectStore
{
    private int _mutations;
    private volatile bool _dead;

    public string Bucket => inner.Bucket;

    /// <summary>Whether the crash point was reached.</summary>
    public bool Crashed => _dead;

    /// <summary>Keys put or copied before the crash, in order.</summary>
    public List<string> Written { get; } = [];

    public Task EnsureBucketAsync(CancellationToken cancellationToken = default) => Alive(() => inner.EnsureBucketAsync(cancellationToken));

    public Task PutFileAsync(string key, string localPath, CancellationToken cancellationToken = default) => Mutate(key, () => inner.PutFileAsync(key, localPath, cancellationToken));

    public Task ReadRangeAsync(string key, long offset, Memory<byte> buffer, CancellationToken cancellationToken = default) => Alive(() => inner.ReadRangeAsync(key, offset, buffer, cancellationToken));

    public Task<ObjectInfo?> HeadAsync(string key, CancellationToken cancellationToken = default) => Alive(() => inner.HeadAsync(key, cancellationToken));

    public Task DeleteAsync(string key, CancellationToken cancellationToken = default) => Mutate(null, () => inner.DeleteAsync(key, cancellationToken));

    public Task CopyFromAsync(string sourceBucket, string sourceKey, string key, CancellationToken cancellationToken = default) => Mutate(key, () => inner.CopyFromAsync(sourceBucket, sourceKey, key, cancellationToken));

    public Task<IReadOnlyList<ObjectInfo>> ListAsync(string prefix, CancellationToken cancellationToken = default) => Alive(() => inner.ListAsync(prefix, cancellationToken));

    private Task<T> Alive<T>(Func<Task<T>> call) => _dead ? throw new SimulatedCrashException() : call();

    private Task Alive(Func<Task> call) => _dead ? throw new SimulatedCrashException() : call();

    private async Task Mutate(string? written, Func<Task> call)
    {
        if (_dead || Interlocked.Increment(ref _mutations) >= crashAt)
        {
            _dead = true;
            throw new SimulatedCrashException();
        }

        await call().ConfigureAwait(false);
        if (written is not null)
        {
            lock (Written)
            {
                Written.Add(written);
            }
        }
    }
}
