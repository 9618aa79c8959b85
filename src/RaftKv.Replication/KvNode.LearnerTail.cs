using System.Runtime.CompilerServices;
using RaftKv.Replication.Api;
using RaftKv.Replication.Commands;
using RaftKv.Replication.Log;
using NotLeaderException = RaftKv.Replication.Api.NotLeaderException;

namespace RaftKv.Replication;

/// <summary>
/// The leader's side of the learner tail stream (docs/architecture.md, "Learners"; served by the internal gRPC
/// call <c>raftkv.v1.Cluster/TailLog</c>).
/// </summary>
/// <remarks>
/// <para><b>Contract.</b> Only entries this leader has applied are sent (applied ≤ committed: never an entry
/// that could still be replaced), in index order without gaps from the learner's <c>FromIndex</c>, each with
/// the index and term it has in the leader's log; when <c>FromIndex</c> is compacted away, the snapshot
/// comes first (chunks, then the entries after it). The stream ends when this node stops leading, when the
/// learner is removed or being promoted, or on any error; the learner resumes from its own commit index + 1.</para>
/// </remarks>
public sealed partial class KvNode
{
    private const int TailBatchEntries = 256;
    private const int TailBatchBytes = 1 << 20;
    private const int TailSnapshotChunkBytes = 1 << 20;

    /// <summary>Streams the committed log to learner <paramref name="request"/> (this node must lead).</summary>
    public async IAsyncEnumerable<LearnerTailItem> TailLogAsync(LearnerTailRequest request, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (!IsLeader)
        {
            throw new NotLeaderException(GetStatus().Leader);
        }

        if (request.PullCredential is not null)
        {
            // A member DotNext sent a snapshot reference (KvNode.SnapshotPull.cs) pulling the snapshot and the entries after it:
            // a voter, or a learner DotNext warms up for its promotion. The credential proves the reference came from this
            // leader. Never a learner's own tailer (no credential): a promotion it tailed it would take for history.
            if (!IsSnapshotPullCredential(request.PullCredential))
            {
                throw new UnavailableException("the snapshot pull credential is not this leader's (a reference from an earlier leader or process)");
            }

            await foreach (var item in StreamLogAsync(request, learner: null, new LearnerProgress(), cancellationToken).ConfigureAwait(false))
            {
                yield return item;
            }

            yield break;
        }

        var learner = _state.Learners.Find(request.RaftAddress)
            ?? throw new ArgumentException($"{request.RaftAddress} is not a learner of this cluster (add it first: etcdctl member add --learner)");

        var progress = _learnerProgress.GetOrAdd(learner.RaftAddress, _ => new LearnerProgress());
        if (progress.Promoting || IsVotingMember(learner.RaftAddress))
        {
            // Once in the voting configuration (a promotion, or one a failed leader left half-done) DotNext replicates to
            // it, the Promoted entry included: never through the tail (the learner ignores tailed promotions of itself).
            throw new UnavailableException($"learner {request.RaftAddress} is being promoted");
        }

        if (learner.Id != request.NodeId || learner.GrpcAddress != request.GrpcAddress || learner.HttpAddress != request.HttpAddress)
        {
            // The learner tells who it is on its first connection: published in the list (ids for promote/remove).
            _ = PublishLearnerAsync(new LearnerChange(LearnerChangeKind.Upsert, request.NodeId, learner.RaftAddress, request.GrpcAddress, request.HttpAddress));
        }

        Interlocked.Increment(ref progress.Streams);
        try
        {
            await foreach (var item in StreamLogAsync(request, learner, progress, cancellationToken).ConfigureAwait(false))
            {
                yield return item;
            }
        }
        finally
        {
            Interlocked.Decrement(ref progress.Streams);
        }
    }

    private bool IsVotingMember(string raftAddress)
        => _cluster.Members.Any(m => string.Equals(m.EndPoint.ToString(), raftAddress, StringComparison.OrdinalIgnoreCase));

    /// <summary>The stream itself, to <paramref name="learner"/> or (null) to a member pulling a snapshot, which ends it itself. Entries
    /// from the stream's next index on are pinned in the log (<see cref="RaftLog.Pin"/>): a snapshot that takes long to
    /// cross is still followed by the entries after it.</summary>
    private async IAsyncEnumerable<LearnerTailItem> StreamLogAsync(LearnerTailRequest request, MemberInfo? learner, LearnerProgress progress, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var snapshotPath = Path.Combine(Path.GetFullPath(_options.DataDir), $"learner-tail-{Guid.NewGuid():N}.snapshot");
        var next = Math.Max(1, request.FromIndex);
        using var pin = (_log as RaftLog)?.Pin(next);
        try
        {
            Interlocked.Exchange(ref progress.SentIndex, next - 1);
            using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, _stop.Token);
            var token = stop.Token;
            while (!token.IsCancellationRequested)
            {
                if (!IsLeader || (learner is not null && (progress.Promoting || _state.Learners.Find(learner.RaftAddress) is null)))
                {
                    yield break;
                }

                var applied = _log.LastAppliedIndex;
                if (next > applied)
                {
                    if (!await WaitAppliedOrTimeoutAsync(next, TimeSpan.FromSeconds(1), token).ConfigureAwait(false))
                    {
                        yield return new LearnerTailItem([], null, 0, 0, false, _log.LastCommittedIndex); // keep-alive
                    }

                    continue;
                }

                var reader = new TailReader(next, snapshotPath) { Pin = pin };
                var end = Math.Min(applied, next + TailBatchEntries - 1);
                var entries = await _log.AuditTrail.ReadAsync(reader, next, end, token).ConfigureAwait(false);
                if (reader.Snapshot is { } snapshot)
                {
                    await foreach (var chunk in SnapshotChunksAsync(snapshotPath, snapshot.Index, snapshot.Term, token).ConfigureAwait(false))
                    {
                        yield return chunk;
                    }

                    File.Delete(snapshotPath);
                    next = snapshot.Index + 1;
                    pin?.From = next;
                    Interlocked.Exchange(ref progress.SentIndex, snapshot.Index);
                }

                foreach (var batch in Batches(entries))
                {
                    yield return new LearnerTailItem(batch, null, 0, 0, false, _log.LastCommittedIndex);
                    next = batch[^1].Index + 1;
                    pin?.From = next;
                    Interlocked.Exchange(ref progress.SentIndex, batch[^1].Index);
                }
            }
        }
        finally
        {
            File.Delete(snapshotPath);
        }
    }

    private async Task<bool> WaitAppliedOrTimeoutAsync(long index, TimeSpan wait, CancellationToken token)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(token);
        timeout.CancelAfter(wait);
        try
        {
            await _log.WaitForAppliedAsync(index, timeout.Token).ConfigureAwait(false);
            return true;
        }
        catch (OperationCanceledException) when (!token.IsCancellationRequested)
        {
            return false;
        }
    }

    private async IAsyncEnumerable<LearnerTailItem> SnapshotChunksAsync(string path, long index, long term, [EnumeratorCancellation] CancellationToken token)
    {
        await using var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1, FileOptions.Asynchronous | FileOptions.SequentialScan);
        var length = file.Length;
        long sent = 0;
        do
        {
            var chunk = new byte[(int)Math.Min(TailSnapshotChunkBytes, length - sent)];
            await file.ReadExactlyAsync(chunk, token).ConfigureAwait(false);
            sent += chunk.Length;
            yield return new LearnerTailItem([], chunk, index, term, sent == length, _log.LastCommittedIndex);
        }
        while (sent < length);
    }

    private static IEnumerable<List<LearnerTailEntry>> Batches(List<LearnerTailEntry> entries)
    {
        var batch = new List<LearnerTailEntry>();
        var bytes = 0;
        foreach (var e in entries)
        {
            if (batch.Count > 0 && bytes + e.Payload.Length > TailBatchBytes)
            {
                yield return batch;
                batch = [];
                bytes = 0;
            }

            batch.Add(e);
            bytes += e.Payload.Length;
        }

        if (batch.Count > 0)
        {
            yield return batch;
        }
    }

    private async Task PublishLearnerAsync(LearnerChange change)
    {
        try
        {
            await ProposeAsync(new KvCommand(CommandKind.Learner, NextTimestamp(), null, null, Learner: change), _stop.Token).ConfigureAwait(false);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            LogBackgroundError(_logger, "learner list", e.Message); // the learner's next connection tries again
        }
    }
}
