using DotNext.IO;
using DotNext.Net.Cluster.Consensus.Raft.StateMachine;
using RaftKv.Storage.IO;

namespace RaftKv.Replication.State;

/// <summary>
/// The Raft snapshot at <see cref="Index"/>: an immutable LSM checkpoint directory
/// (<c>snapshots/{index}-{term}</c>), streamed to lagging followers by <see cref="SnapshotPacker"/>.
/// </summary>
internal sealed class CheckpointSnapshot(IFileSystem fs, string directory, long index, long term, DateTimeOffset timestamp) : ISnapshot
{
    private readonly long _length = SnapshotPacker.ComputeLength(fs, directory);

    public string Directory { get; } = directory;

    public long Index { get; } = index;

    public long Term { get; } = term;

    /// <summary>0 for the first checkpoint at <see cref="Index"/>; refreshes at the same index count up.</summary>
    public long Generation { get; init; }

    public DateTimeOffset Timestamp { get; } = timestamp;

    public int? CommandId => null;

    public bool IsConfiguration => false;

    bool IDataTransferObject.IsReusable => true;

    long? IDataTransferObject.Length => _length;

    ValueTask IDataTransferObject.WriteToAsync<TWriter>(TWriter writer, CancellationToken token)
        => SnapshotPacker.WriteAsync(fs, Directory, writer, token);
}
