using DotNext.IO;
using DotNext.Net.Cluster.Consensus.Raft;
using DotNext.Net.Cluster.Consensus.Raft.StateMachine;
using RaftKv.Replication.Log;

namespace RaftKv.Replication.Tests.Log;

/// <summary>A state machine that records what <see cref="RaftLog"/> hands it (RaftLog's unit tests).</summary>
internal sealed class FakeStateMachine : IRaftStateMachine
{
    private readonly Lock _lock = new();

    public List<(long Index, long Term, byte[] Payload)> Applied { get; } = [];

    public List<long> Installed { get; } = [];

    public List<long> Reclaimed { get; } = [];

    /// <summary>When set, applying this index throws.</summary>
    public long FailAt { get; set; } = -1;

    public ISnapshot? Snapshot { get; set; }

    public int ProtocolVersion => 0;

    public List<(long Index, long Term, byte[] Payload)> AppliedSnapshot()
    {
        lock (_lock)
        {
            return [.. Applied];
        }
    }

    public ValueTask<long> ApplyEntryAsync(long index, long term, bool isConfiguration, byte[] payload, object? context, CancellationToken token)
    {
        if (index == FailAt)
        {
            throw new InvalidDataException($"entry {index} cannot be applied");
        }

        lock (_lock)
        {
            Applied.Add((index, term, payload));
        }

        return ValueTask.FromResult(index);
    }

    public async ValueTask<long> InstallSnapshotAsync<TEntry>(TEntry entry, long index, CancellationToken token)
        where TEntry : IRaftLogEntry
    {
        var bytes = await entry.ToByteArrayAsync(token: token);
        lock (_lock)
        {
            Installed.Add(index);
        }

        Snapshot = new FakeSnapshot(index, entry.Term, bytes);
        return index;
    }

    public ValueTask ReclaimGarbageAsync(long watermark, CancellationToken token)
    {
        lock (_lock)
        {
            Reclaimed.Add(watermark);
        }

        return ValueTask.CompletedTask;
    }
}

/// <summary>A snapshot entry with an opaque payload.</summary>
internal sealed class FakeSnapshot(long index, long term, byte[] payload) : ISnapshot
{
    public long Index => index;

    public long Term => term;

    public DateTimeOffset Timestamp => DateTimeOffset.UnixEpoch;

    public int? CommandId => null;

    public bool IsConfiguration => false;

    bool IDataTransferObject.IsReusable => true;

    long? IDataTransferObject.Length => payload.Length;

    ValueTask IDataTransferObject.WriteToAsync<TWriter>(TWriter writer, CancellationToken token) => writer.Invoke(payload, token);
}
