using DotNext.IO;
using DotNext.Net.Cluster.Consensus.Raft;

namespace RaftKv.Replication.Log;

/// <summary>A committed entry received by a learner from the leader's tail stream, appended to the learner's
/// log at the leader's index with the leader's term (docs/architecture.md, "Learners").</summary>
internal sealed class TailLogEntry(long term, bool isConfiguration, byte[] payload) : IRaftLogEntry
{
    public long Term => term;

    public DateTimeOffset Timestamp => DateTimeOffset.UtcNow;

    public int? CommandId => null;

    public bool IsConfiguration => isConfiguration;

    bool DotNext.IO.Log.ILogEntry.IsSnapshot => false;

    bool IDataTransferObject.IsReusable => true;

    long? IDataTransferObject.Length => payload.Length;

    bool IDataTransferObject.TryGetMemory(out ReadOnlyMemory<byte> memory)
    {
        memory = payload;
        return true;
    }

    ValueTask IDataTransferObject.WriteToAsync<TWriter>(TWriter writer, CancellationToken token)
        => writer.Invoke(payload, token);
}
