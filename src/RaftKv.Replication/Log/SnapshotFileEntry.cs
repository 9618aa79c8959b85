using DotNext.IO;
using DotNext.Net.Cluster.Consensus.Raft;

namespace RaftKv.Replication.Log;

/// <summary>A snapshot a learner received from the leader's tail stream into a local file, handed to its log's
/// snapshot installation (<c>AppendAsync(entry, index)</c>) exactly as DotNext hands a leader's snapshot.</summary>
internal sealed class SnapshotFileEntry(string path, long term) : IRaftLogEntry
{
    public long Term => term;

    public DateTimeOffset Timestamp => DateTimeOffset.UtcNow;

    public int? CommandId => null;

    public bool IsConfiguration => false;

    bool DotNext.IO.Log.ILogEntry.IsSnapshot => true;

    bool IDataTransferObject.IsReusable => true;

    long? IDataTransferObject.Length => new FileInfo(path).Length;

    bool IDataTransferObject.TryGetMemory(out ReadOnlyMemory<byte> memory)
    {
        memory = default;
        return false;
    }

    async ValueTask IDataTransferObject.WriteToAsync<TWriter>(TWriter writer, CancellationToken token)
    {
        var buffer = new byte[1 << 16];
        await using var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1, FileOptions.Asynchronous | FileOptions.SequentialScan);
        int n;
        while ((n = await file.ReadAsync(buffer, token).ConfigureAwait(false)) > 0)
        {
            await writer.Invoke(buffer.AsMemory(0, n), token).ConfigureAwait(false);
        }
    }
}
