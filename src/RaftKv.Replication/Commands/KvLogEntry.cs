using DotNext.IO;
using DotNext.Net.Cluster.Consensus.Raft;

namespace RaftKv.Replication.Commands;

/// <summary>The log entry the leader proposes: an encoded <see cref="KvCommand"/>. <see cref="Context"/>
/// carries the proposer's <see cref="State.ApplyResult"/> holder to the local apply.</summary>
internal sealed class KvLogEntry(byte[] payload, long term) : IInputLogEntry
{
    public long Term { get; } = term;

    public DateTimeOffset Timestamp { get; } = DateTimeOffset.UtcNow;

    public object? Context { get; init; }

    /// <summary>The encoded command (owned by this entry: <see cref="Log.RaftLog"/> keeps it without a copy).</summary>
    public byte[] Payload => payload;

    public int? CommandId => null;

    public bool IsConfiguration => false;

    bool IDataTransferObject.IsReusable => true;

    long? IDataTransferObject.Length => payload.Length;

    bool DotNext.IO.Log.ILogEntry.IsSnapshot => false;

    bool IDataTransferObject.TryGetMemory(out ReadOnlyMemory<byte> memory)
    {
        memory = payload;
        return true;
    }

    ValueTask IDataTransferObject.WriteToAsync<TWriter>(TWriter writer, CancellationToken token)
        => writer.Invoke(payload, token);
}
