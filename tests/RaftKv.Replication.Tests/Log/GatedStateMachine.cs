using System.Collections.Concurrent;
using DotNext.Net.Cluster.Consensus.Raft;
using DotNext.Net.Cluster.Consensus.Raft.StateMachine;
using RaftKv.Replication.Log;

namespace RaftKv.Replication.Tests.Log;

/// <summary>A <see cref="FakeStateMachine"/> whose snapshot installations wait for the test: each call signals
/// <see cref="Entered"/>(n) and waits for <see cref="Release"/>(n) (n counts calls from 1), so a test can hold one
/// installation inside the log's apply gate while it runs other log calls.</summary>
internal sealed class GatedStateMachine : IRaftStateMachine
{
    private readonly ConcurrentDictionary<int, TaskCompletionSource> _entered = new();
    private readonly ConcurrentDictionary<int, TaskCompletionSource> _released = new();
    private int _calls;

    public FakeStateMachine Inner { get; } = new();

    public ISnapshot? Snapshot => Inner.Snapshot;

    public int ProtocolVersion => Inner.ProtocolVersion;

    /// <summary>Completes when installation number <paramref name="call"/> has started.</summary>
    public Task Entered(int call) => Signal(_entered, call).Task;

    /// <summary>Lets installation number <paramref name="call"/> go on.</summary>
    public void Release(int call) => Signal(_released, call).TrySetResult();

    public ValueTask<long> ApplyEntryAsync(long index, long term, bool isConfiguration, byte[] payload, object? context, CancellationToken token)
        => Inner.ApplyEntryAsync(index, term, isConfiguration, payload, context, token);

    public async ValueTask<long> InstallSnapshotAsync<TEntry>(TEntry entry, long index, CancellationToken token)
        where TEntry : IRaftLogEntry
    {
        var call = Interlocked.Increment(ref _calls);
        Signal(_entered, call).TrySetResult();
        await Signal(_released, call).Task.WaitAsync(token);
        return await Inner.InstallSnapshotAsync(entry, index, token);
    }

    public ValueTask ReclaimGarbageAsync(long watermark, CancellationToken token) => Inner.ReclaimGarbageAsync(watermark, token);

    private static TaskCompletionSource Signal(ConcurrentDictionary<int, TaskCompletionSource> map, int call)
        => map.GetOrAdd(call, _ => new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously));
}
