using DotNext.IO.Log;
using DotNext.Net.Cluster.Consensus.Raft;
using Microsoft.Extensions.Logging;
using RaftKv.Replication.Api;
using RaftKv.Replication.Commands;
using RaftKv.Replication.Log;
using NotLeaderException = RaftKv.Replication.Api.NotLeaderException;

namespace RaftKv.Replication;

/// <summary>
/// The learner's side (docs/architecture.md, "Learners"; started with <see cref="KvNodeOptions.Learner"/>):
/// DotNext runs in standby (it never starts an election, and no leader sends it AppendEntries: it is in no
/// configuration), while the tailer copies the committed log from the leader into this node's own log with the
/// leader's indexes and terms, commits it and lets the applier apply it.
/// </summary>
/// <remarks>
/// <para><b>Ordering and durability.</b> Each batch is appended through the log's own append path
/// (<c>IAuditTrail.AppendAsync</c>, under <c>RaftLog</c>'s <c>_appendLock</c>) and committed with
/// <c>CommitAsync</c>, which waits until the batch is fsynced (a follower's commit); a snapshot is installed
/// through the same call DotNext uses (<c>AppendAsync(snapshot, index)</c>). Only committed entries are ever
/// received, so nothing the tailer writes can conflict with what a leader later sends.</para>
/// <para><b>Promotion.</b> The leader ends the stream, adds this node to DotNext's configuration (its
/// AppendEntries find a matching log: same indexes and terms), then replicates
/// <see cref="LearnerChangeKind.Promoted"/>; applying it here writes <c>learner-promoted</c> in the data
/// directory, ends the tailer and leaves standby. A batch the tailer still appends while DotNext's first
/// AppendEntries arrive holds the same committed entries, and both go through the same lock.</para>
/// </remarks>
public sealed partial class KvNode
{
    private const string PromotedMarker = "learner-promoted";

    private volatile bool _learner;

    /// <summary>The last index the tailer appended (entries or an installed snapshot): a <see cref="LearnerChangeKind.Promoted"/>
    /// for this address at or below it came through the tail, so it is history — an earlier node at this address, promoted
    /// then removed — never this learner's promotion, which the leader replicates through DotNext after ending the tail
    /// (and refuses to tail a learner already in its voting configuration). In memory: a learner that crashed after the
    /// tail appended such an entry and before applying it could still replay it (narrow; docs/architecture.md "Learners").</summary>
    private long _tailAppended;

    /// <summary>The leader this learner is tailing right now (null between streams).</summary>
    private volatile MemberInfo? _tailSource;

    /// <summary>True while this node is a learner (started as one and not promoted yet).</summary>
    public bool IsLearner => _learner;

    /// <summary>Whether a node started with <see cref="KvNodeOptions.Learner"/> is still a learner (not promoted before).</summary>
    private static bool StartsAsLearner(KvNodeOptions options)
        => options.Learner && !File.Exists(Path.Combine(Path.GetFullPath(options.DataDir), PromotedMarker));

    /// <summary>Reacts to the replicated learner list (on the applier): this node's own promotion.</summary>
    private void OnLearnerApplied(LearnerChange change)
    {
        if (change.Change == LearnerChangeKind.Moved && change.Id == NodeId)
        {
            WarnIfMovedAway(); // KvNode.MemberUpdate.cs
        }

        if (!_learner || change.Change != LearnerChangeKind.Promoted || !IsSelfAddress(change.RaftAddress))
        {
            return;
        }

        if (_store.AppliedIndex <= Volatile.Read(ref _tailAppended))
        {
            LogStalePromotionIgnored(_logger, _store.AppliedIndex);
            return; // replayed history: a former member at this address (this one was removed, wiped and re-added)
        }

        var marker = Path.Combine(Path.GetFullPath(_options.DataDir), PromotedMarker);
        using (var file = new FileStream(marker, FileMode.Create, FileAccess.Write, FileShare.None, 1, FileOptions.WriteThrough))
        {
            file.Write("promoted\n"u8);
            file.Flush(flushToDisk: true);
        }

        _learner = false;
        LogLearnerPromoted(_logger, NodeId);
        _ = Task.Run(LeaveStandbyAfterPromotionAsync);
    }

    /// <summary>Leaves DotNext's standby once promoted, retrying until it has: DotNext's
    /// <c>RevertToNormalModeAsync</c> answers false (and changes nothing) while it does not list the local member
    /// (a configuration being applied) or is not in a resumable standby, and a promoted member left standby would
    /// vote but never start an election — a cluster whose other members cannot win (shorter logs) would have no
    /// leader (chaos membership seed 5). A leadership transfer's hold (KvNode.MoveLeader.cs) is never in force
    /// here: a learner is in no configuration the transfer asks.</summary>
    private async Task LeaveStandbyAfterPromotionAsync()
    {
        var token = _stop.Token;
        var delay = TimeSpan.FromMilliseconds(50);
        var attempts = 0;
        while (!token.IsCancellationRequested && _cluster.Standby && !_handingOff)
        {
            try
            {
                if (await _cluster.RevertToNormalModeAsync(token).ConfigureAwait(false))
                {
                    break;
                }
            }
            catch (OperationCanceledException)
            {
                return;
            }
            catch (Exception e)
            {
                LogBackgroundError(_logger, "leave standby", e.Message);
            }

            if (++attempts == 1 || attempts % 20 == 0)
            {
                LogStandbyNotLeft(_logger, NodeId, attempts);
            }

            try
            {
                await Task.Delay(delay, _options.TimeProvider, token).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return;
            }

            delay = TimeSpan.FromMilliseconds(Math.Min(delay.TotalMilliseconds * 2, 1000));
        }
    }

    /// <summary>The tailer: while a learner, streams the committed log from the leader, reconnecting with backoff.</summary>
    private async Task LearnerLoopAsync()
    {
        var token = _stop.Token;
        var backoff = TimeSpan.FromMilliseconds(100);
        string? preferred = null;
        string? lastError = null;
        while (_learner && !token.IsCancellationRequested)
        {
            if (_options.LearnerPeers is not { } peers)
            {
                return;
            }

            var sources = _cluster.Members.Where(m => m.IsRemote).Select(m => (Raft: m.EndPoint.ToString() ?? string.Empty, Meta: MetaOf(m))).Where(m => m.Meta.Grpc.Length > 0)
                .Select(m => new MemberInfo(m.Meta.Id, m.Raft, m.Meta.Grpc, m.Meta.Http, false, false, true))
                .OrderBy(m => m.GrpcAddress == preferred ? 0 : 1).ToList();
            foreach (var source in sources)
            {
                if (!_learner || token.IsCancellationRequested)
                {
                    return;
                }

                try
                {
                    await TailFromAsync(peers, source, token).ConfigureAwait(false);
                    preferred = source.GrpcAddress;
                    backoff = TimeSpan.FromMilliseconds(100);
                    lastError = null;
                    break; // the stream ended cleanly (a leader change, a promotion): start over
                }
                catch (Exception e) when (!token.IsCancellationRequested)
                {
                    if (e is NotLeaderException { Leader.GrpcAddress: { Length: > 0 } leader })
                    {
                        preferred = leader;
                    }

                    if (e.Message != lastError)
                    {
                        lastError = e.Message;
                        LogLearnerTailError(_logger, source.GrpcAddress, e.Message);
                    }
                }
            }

            try
            {
                await Task.Delay(backoff, token).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return;
            }

            backoff = TimeSpan.FromMilliseconds(Math.Min(backoff.TotalMilliseconds * 2, 2000));
        }
    }

    private async Task TailFromAsync(ILearnerPeers peers, MemberInfo source, CancellationToken token)
    {
        var audit = (IAuditTrail<IRaftLogEntry>)_log.AuditTrail;
        var request = new LearnerTailRequest(NodeId, _options.RaftAdvertise, _options.GrpcAdvertise, _options.HttpAdvertise, _log.LastCommittedIndex + 1);
        var snapshotPath = Path.Combine(Path.GetFullPath(_options.DataDir), "learner-incoming.snapshot");
        FileStream? snapshot = null;
        try
        {
            await foreach (var item in peers.TailAsync(source, request, token).ConfigureAwait(false))
            {
                if (!_learner)
                {
                    return;
                }

                _tailSource ??= source with { IsLeader = true };

                if (item.SnapshotChunk is { } chunk)
                {
                    snapshot ??= new FileStream(snapshotPath, FileMode.Create, FileAccess.Write, FileShare.None, 1, FileOptions.Asynchronous);
                    await snapshot.WriteAsync(chunk, token).ConfigureAwait(false);
                    if (item.SnapshotDone)
                    {
                        await snapshot.DisposeAsync().ConfigureAwait(false);
                        snapshot = null;
                        Volatile.Write(ref _tailAppended, Math.Max(Volatile.Read(ref _tailAppended), item.SnapshotIndex));
                        await audit.AppendAsync(new SnapshotFileEntry(snapshotPath, item.SnapshotTerm), item.SnapshotIndex, token).ConfigureAwait(false);
                        File.Delete(snapshotPath);
                        LogLearnerSnapshotInstalled(_logger, item.SnapshotIndex);
                    }

                    continue;
                }

                if (item.Entries.Count == 0)
                {
                    continue; // keep-alive
                }

                var first = item.Entries[0].Index;
                var entries = item.Entries.Select(e => new TailLogEntry(e.Term, e.IsConfiguration, e.Payload)).ToList();
                Volatile.Write(ref _tailAppended, Math.Max(Volatile.Read(ref _tailAppended), item.Entries[^1].Index)); // before the applier can see them
                await audit.AppendAsync(new LogEntryProducer<TailLogEntry>(entries), first, skipCommitted: true, token).ConfigureAwait(false);
                await audit.CommitAsync(item.Entries[^1].Index, token).ConfigureAwait(false);
            }
        }
        finally
        {
            _tailSource = null;
            if (snapshot is not null)
            {
                await snapshot.DisposeAsync().ConfigureAwait(false);
            }

            File.Delete(snapshotPath);
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Learner tail from {Source}: {Error}")]
    private static partial void LogLearnerTailError(ILogger logger, string source, string error);

    [LoggerMessage(Level = LogLevel.Information, Message = "Learner installed the leader's snapshot at index {Index}")]
    private static partial void LogLearnerSnapshotInstalled(ILogger logger, long index);

    [LoggerMessage(Level = LogLevel.Information, Message = "Learner ignored a promotion of its address replayed from the log at index {Index} (a former member at this address)")]
    private static partial void LogStalePromotionIgnored(ILogger logger, long index);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Node {NodeId} was promoted (or joined its cluster) but is still standby after {Attempts} attempt(s) to leave it; retrying")]
    private static partial void LogStandbyNotLeft(ILogger logger, long nodeId, int attempts);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Node {NodeId} was promoted from learner to voter")]
    private static partial void LogLearnerPromoted(ILogger logger, long nodeId);
}
