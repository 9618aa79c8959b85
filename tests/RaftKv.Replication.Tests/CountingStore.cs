using System.Runtime.CompilerServices;
using RaftKv.Storage;

namespace RaftKv.Replication.Tests;

/// <summary>An <see cref="IKvStore"/> that counts the entries its reads return (a deterministic measure of
/// read work, unlike time on a shared machine).</summary>
internal sealed class CountingStore(IKvStore inner) : IKvStore
{
    public long EntriesRead;

    public long DurableIndex => inner.DurableIndex;

    public bool OutOfSpace => inner.OutOfSpace;

    public bool SeparateValues { get => inner.SeparateValues; set => inner.SeparateValues = value; }

    public long AppliedIndex => inner.AppliedIndex;

    public long LogicalClockUnixMs { get => inner.LogicalClockUnixMs; set => inner.LogicalClockUnixMs = value; }

    public CompactionProgress? ManualCompaction => inner.ManualCompaction;

    public void Apply(long index, IReadOnlyList<WriteOp> ops) => inner.Apply(index, ops);

    public void Advance(long index) => inner.Advance(index);

    public async ValueTask<KvEntry?> GetAsync(ReadOnlyMemory<byte> key, long nowUnixMs, CancellationToken cancellationToken = default)
    {
        Interlocked.Increment(ref EntriesRead);
        return await inner.GetAsync(key, nowUnixMs, cancellationToken).ConfigureAwait(false);
    }

    public KeyMetadata? GetMetadata(ReadOnlyMemory<byte> key, long nowUnixMs) => inner.GetMetadata(key, nowUnixMs);

    public IEnumerable<KeyMetadata> ScanMetadata(ReadOnlyMemory<byte> start, ReadOnlyMemory<byte> end, int limit, long nowUnixMs)
    {
        foreach (var e in inner.ScanMetadata(start, end, limit, nowUnixMs))
        {
            Interlocked.Increment(ref EntriesRead);
            yield return e;
        }
    }

    /// <summary>When set, a scan that has returned its first entry waits for it before its next move: a test holds a
    /// scan open with its view pinned (the inner store pins on the first move) while other work goes on.</summary>
    public Task? ScanGate { get; set; }

    public async IAsyncEnumerable<KvEntry> ScanAsync(ReadOnlyMemory<byte> start, ReadOnlyMemory<byte> end, int limit, long nowUnixMs, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var gate = ScanGate;
        await foreach (var e in inner.ScanAsync(start, end, limit, nowUnixMs, cancellationToken).ConfigureAwait(false))
        {
            Interlocked.Increment(ref EntriesRead);
            yield return e;
            if (gate is not null)
            {
                await gate.WaitAsync(cancellationToken).ConfigureAwait(false);
            }
        }
    }

    public Task FlushAsync(CancellationToken cancellationToken = default) => inner.FlushAsync(cancellationToken);

    public Task CompactAsync(long nowUnixMs, CancellationToken cancellationToken = default) => inner.CompactAsync(nowUnixMs, cancellationToken);

    public Task<long> CheckpointAsync(string directory, CancellationToken cancellationToken = default) => inner.CheckpointAsync(directory, cancellationToken);

    public Task<(long Index, IDisposable Pin)> CheckpointPinnedAsync(string directory, CancellationToken cancellationToken = default) => inner.CheckpointPinnedAsync(directory, cancellationToken);

    public Task IngestAsync(string directory, CancellationToken cancellationToken = default) => inner.IngestAsync(directory, cancellationToken);

    public StoreStats GetStats() => inner.GetStats();

    public ValueTask DisposeAsync() => inner.DisposeAsync();
}
