using DotNext.IO;
using DotNext.Net.Cluster.Consensus.Raft;

namespace RaftKv.Replication.Log;

/// <summary>A log entry as DotNext reads it (to replicate it, or to check its term); the payload is
/// loaded from memory or its segment only when asked for.</summary>
internal sealed class StoredEntry(LogRecord record, RaftLogStore store) : IRaftLogEntry
{
    /// <summary>The empty entry at index 0 (term 0) that DotNext asks for before the first entry.</summary>
    public static readonly StoredEntry Initial = new(new LogRecord { Index = 0, Term = 0, TimestampTicks = 0, Length = 0, Payload = [] }, null!);

    public long Term => record.Term;

    public DateTimeOffset Timestamp => new(record.TimestampTicks, TimeSpan.Zero);

    public int? CommandId => record.CommandId;

    public bool IsConfiguration => record.IsConfiguration;

    bool DotNext.IO.Log.ILogEntry.IsSnapshot => false;

    bool IDataTransferObject.IsReusable => true;

    long? IDataTransferObject.Length => record.Length;

    bool IDataTransferObject.TryGetMemory(out ReadOnlyMemory<byte> memory)
    {
        memory = Payload();
        return true;
    }

    ValueTask IDataTransferObject.WriteToAsync<TWriter>(TWriter writer, CancellationToken token)
        => writer.Invoke(Payload(), token);

    private byte[] Payload() => record.Payload ?? store.ReadPayload(record);
}
