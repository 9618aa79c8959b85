using DotNext.IO;
using DotNext.IO.Log;
using DotNext.Net.Cluster.Consensus.Raft;
using RaftKv.Replication.Api;

namespace RaftKv.Replication.Log;

/// <summary>
/// Reads a range of the leader's log for a learner's tail stream (<c>IAuditTrail.ReadAsync</c>): the entries,
/// copied out, and — when the range starts inside the snapshot — the snapshot written to
/// <see cref="SnapshotPath"/> (a file, so a large snapshot is never held in memory).
/// </summary>
internal sealed class TailReader(long startIndex, string snapshotPath) : ILogEntryConsumer<IRaftLogEntry, List<LearnerTailEntry>>
{
    /// <summary>The stream's pin: moved to the entry after the snapshot as soon as the log picks one, before the
    /// snapshot is written out (which takes long for a large store).</summary>
    public LogPin? Pin { get; init; }

    /// <summary>Where the snapshot is written when the range starts inside it.</summary>
    public string SnapshotPath => snapshotPath;

    /// <summary>The snapshot's index and term when one was written, else null.</summary>
    public (long Index, long Term)? Snapshot { get; private set; }

    bool ILogEntryConsumer<IRaftLogEntry, List<LearnerTailEntry>>.LogEntryMetadataOnly => false;

    async ValueTask<List<LearnerTailEntry>> ILogEntryConsumer<IRaftLogEntry, List<LearnerTailEntry>>.ReadAsync<TEntry, TList>(TList entries, long? snapshotIndex, CancellationToken token)
    {
        var items = new List<LearnerTailEntry>(entries.Count);
        var index = startIndex;
        for (var i = 0; i < entries.Count; i++)
        {
            var entry = entries[i];
            if (entry.IsSnapshot)
            {
                var at = snapshotIndex ?? throw new InvalidOperationException("a snapshot entry without its index");
                await using (var file = new FileStream(snapshotPath, FileMode.Create, FileAccess.Write, FileShare.None, 1, FileOptions.Asynchronous))
                {
                    var writer = IAsyncBinaryWriter.Create(file, new byte[1 << 16]);
                    await entry.WriteToAsync(writer, token).ConfigureAwait(false);
                }

                Snapshot = (at, entry.Term);
                index = at + 1;
                continue;
            }

            if (index == 0)
            {
                index = 1; // the empty entry at index 0
                continue;
            }

            byte[] payload;
            if (entry.TryGetMemory(out var memory))
            {
                payload = memory.ToArray();
            }
            else
            {
                var buffer = new System.Buffers.ArrayBufferWriter<byte>(256);
                await entry.WriteToAsync(buffer, token).ConfigureAwait(false);
                payload = buffer.WrittenSpan.ToArray();
            }

            items.Add(new LearnerTailEntry(index++, entry.Term, entry.IsConfiguration, payload));
        }

        return items;
    }
}
