using DotNext.IO.Log;
using DotNext.Net.Cluster.Consensus.Raft;
using Microsoft.Extensions.Logging;
using RaftKv.Replication.Api;
using RaftKv.Replication.Log;

namespace RaftKv.Replication;

/// <summary>
/// A follower's side of snapshots too large for one Raft request (docs/architecture.md, "Snapshots too large for one
/// Raft request"; the leader's side is <see cref="RaftLog.PullSnapshotsAboveBytes"/> and the tail stream,
/// KvNode.LearnerTail.cs). DotNext hands this node a <see cref="SnapshotReference"/> to the leader's applied index
/// <c>a</c> in an InstallSnapshot request; the node pulls from the leader's tail stream, with no request timeout, the
/// snapshot (if its next entry is no longer in the leader's log) and the entries after it, and answers a reference once
/// its commit index has reached <c>a</c>. Until then each reference fails when about 70 % of the Raft request timeout is
/// over and DotNext sends a newer one on its next round.
/// </summary>
/// <remarks>
/// <para><b>Why the reference handler, and only it, commits <c>a</c>.</b> DotNext answers an InstallSnapshot at or below
/// the follower's commit index with a rejection, and a rejected leader only steps its next index down by one: a follower
/// whose commit index got to <c>a</c> outside a reference would be sent the same reference again (an idle leader's applied
/// index does not move) and rejected forever. So the pull appends entries without committing them, and installs a pulled
/// snapshot by itself only below the highest reference received (a later reference is at or above that one);
/// the handler installs a snapshot at its own index and commits <c>a</c>, which makes DotNext reply success and move the
/// leader's next index to <c>a</c> + 1, an entry its log holds.</para>
/// <para><b>Safety.</b> The stream carries only entries the leader has applied (committed), with the leader's indexes and
/// terms, through the log's own append path (<c>_appendLock</c>, conflicts truncated as for AppendEntries); the handler
/// commits <c>a</c> only when the log holds it with the reference's term, and the log's commit makes every entry it holds
/// durable first. A snapshot is installed through the same call as DotNext's (<c>AppendAsync(snapshot, index)</c>).</para>
/// <para><b>Concurrency.</b> <c>_pullLock</c> guards the fields below; the pull runs as one task at a time;
/// <c>_pullInstall</c> orders installations of the pulled snapshot between that task and the handler.</para>
/// </remarks>
public sealed partial class KvNode
{
    /// <summary>The feature a member lists when it pulls a <see cref="SnapshotReference"/>: a leader sends references only
    /// while every voting member lists it (an older release would unpack the reference as a snapshot).</summary>
    internal const string FeatureSnapshotPull = "snapshot-pull";

    private readonly Lock _pullLock = new();
    private readonly SemaphoreSlim _pullInstall = new(1, 1);
    private Task _pullTask = Task.CompletedTask; // guarded by _pullLock
    private long _pullTarget; // guarded by _pullLock: the highest reference index received
    private long _pullLastReferenceMs; // guarded by _pullLock: Environment.TickCount64 at the last reference
    private PulledSnapshot? _pulled; // guarded by _pullLock: a snapshot downloaded and not installed yet
    private string? _pullCredential; // guarded by _pullLock: the newest reference's credential, hex
    private TaskCompletionSource _pullProgress = NewPullSignal(); // guarded by _pullLock: completed and replaced on every change
    private long _referencesReached;
    private long _pulledInstalled;

    /// <summary>Whether this node, as leader, sends references for snapshots above <see cref="KvNodeOptions.SnapshotPullAboveBytes"/>
    /// (every voting member can pull them).</summary>
    internal bool SendsSnapshotReferences => _log is RaftLog { PullSnapshotsAboveBytes: < long.MaxValue };

    /// <summary>Leader: whether <paramref name="hex"/> is the credential of this node's snapshot references (the auth of a
    /// voting member's pull, which may have no user or token key yet: the Raft transport delivered it the reference).</summary>
    public bool IsSnapshotPullCredential(string? hex)
    {
        if (_log is not RaftLog log || string.IsNullOrEmpty(hex) || hex.Length != 2 * SnapshotReference.CredentialBytes)
        {
            return false;
        }

        Span<byte> presented = stackalloc byte[SnapshotReference.CredentialBytes];
        return Convert.FromHexString(hex, presented, out _, out var written) == System.Buffers.OperationStatus.Done
            && written == presented.Length && log.IsPullCredential(presented);
    }

    /// <summary>Snapshot references this node has answered (metrics, tests).</summary>
    public long SnapshotReferencesReached => Interlocked.Read(ref _referencesReached);

    /// <summary>Snapshots this node pulled from a leader's tail stream and installed (metrics, tests). A follower can catch
    /// up without answering a reference — e.g. a new leader replicates from its own log onto the entries pulled from the
    /// old one — but one that needed a snapshot installed it here.</summary>
    public long PulledSnapshotsInstalled => Interlocked.Read(ref _pulledInstalled);

    private sealed record PulledSnapshot(string Path, long Index, long Term);

    /// <summary>This node's features (<see cref="Features"/>), without <see cref="FeatureSnapshotPull"/> when it cannot pull:
    /// no tail transport, or DotNext's WAL as its log.</summary>
    private static string FeaturesOf(IReplicatedLog log, KvNodeOptions options)
        => log is RaftLog && options.LearnerPeers is not null ? Features : Features.Replace("," + FeatureSnapshotPull, string.Empty, StringComparison.Ordinal);

    /// <summary>Leader side, from the metadata loop: references for snapshots above
    /// <see cref="KvNodeOptions.SnapshotPullAboveBytes"/> while every voting member can pull them.</summary>
    private void UpdateSnapshotPull()
    {
        if (_log is RaftLog log)
        {
            log.PullSnapshotsAboveBytes = _options.SnapshotPullAboveBytes >= 0 && EveryMemberSupports(FeatureSnapshotPull) ? _options.SnapshotPullAboveBytes : long.MaxValue;
        }
    }

    /// <summary>The reference handler (<see cref="RaftLog.SnapshotReferenceReceived"/>): returns once the commit index has
    /// reached the reference's index, or throws when 70 % of the Raft request timeout is over.</summary>
    private async ValueTask OnSnapshotReferenceAsync(SnapshotReference reference, CancellationToken token)
    {
        var (index, term) = (reference.Index, reference.Term);
        if (_options.LearnerPeers is not { } peers || _log is not RaftLog log)
        {
            throw new InvalidOperationException("a snapshot reference arrived but this node has no tail transport to pull it");
        }

        StartPull(peers, index, Convert.ToHexString(reference.Credential));
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(token, _stop.Token);
        deadline.CancelAfter(_options.RequestTimeout * 0.7);
        while (true)
        {
            Task progress;
            PulledSnapshot? pulled;
            lock (_pullLock)
            {
                progress = _pullProgress.Task;
                pulled = _pulled;
            }

            var commit = log.LastCommittedIndex;
            if (commit >= index)
            {
                Interlocked.Increment(ref _referencesReached);
                return;
            }

            if (pulled is not null && pulled.Index > commit && pulled.Index <= index)
            {
                await InstallPulledAsync(pulled).ConfigureAwait(false); // not cut short by the deadline: see InstallPulledAsync
                continue;
            }

            if (log.LastIndex >= index && log.TermAt(index) == term)
            {
                await log.AuditTrail.CommitAsync(index, deadline.Token).ConfigureAwait(false);
                continue;
            }

            await progress.WaitAsync(deadline.Token).ConfigureAwait(false);
        }
    }

    private void StartPull(ILearnerPeers peers, long index, string credential)
    {
        lock (_pullLock)
        {
            _pullTarget = Math.Max(_pullTarget, index);
            _pullCredential = credential;
            _pullLastReferenceMs = Environment.TickCount64;
            SignalPull(); // the pull may be waiting for a higher target to install its snapshot
            if (_pullTask.IsCompleted)
            {
                _pullTask = Task.Run(() => PullLoopAsync(peers));
            }
        }
    }

    /// <summary>Done once the commit index is past the last reference and none came for two election timeouts: DotNext
    /// replicates to this node again.</summary>
    private bool PullFinished()
    {
        lock (_pullLock)
        {
            return _log.LastCommittedIndex >= _pullTarget
                && Environment.TickCount64 - _pullLastReferenceMs > 2 * _options.ElectionTimeoutUpper.TotalMilliseconds;
        }
    }

    private void SignalPull()
    {
        // Caller holds _pullLock.
        var done = _pullProgress;
        _pullProgress = NewPullSignal();
        done.TrySetResult();
    }

    private static TaskCompletionSource NewPullSignal() => new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>The pull: streams from the current leader, reconnecting with backoff, until <see cref="PullFinished"/>.</summary>
    private async Task PullLoopAsync(ILearnerPeers peers)
    {
        var token = _stop.Token;
        var backoff = TimeSpan.FromMilliseconds(100);
        string? lastError = null;
        while (!token.IsCancellationRequested && !PullFinished())
        {
            if (!IsLeader && _cluster.Leader is { IsRemote: true } leader && MetaOf(leader) is { Grpc.Length: > 0 } meta)
            {
                try
                {
                    await PullFromAsync(peers, new MemberInfo(meta.Id, leader.EndPoint.ToString() ?? string.Empty, meta.Grpc, meta.Http, true, false, true), token).ConfigureAwait(false);
                    backoff = TimeSpan.FromMilliseconds(100); // ended cleanly (a leader change): reconnect soon, not in a tight loop
                    lastError = null;
                }
                catch (Exception e) when (!token.IsCancellationRequested)
                {
                    if (e.Message != lastError)
                    {
                        lastError = e.Message;
                        LogPullError(_logger, meta.Grpc, e.Message);
                    }
                }
            }

            try
            {
                await Task.Delay(backoff, _options.TimeProvider, token).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return;
            }

            backoff = TimeSpan.FromMilliseconds(Math.Min(backoff.TotalMilliseconds * 2, 2000));
        }
    }

    private async Task PullFromAsync(ILearnerPeers peers, MemberInfo leader, CancellationToken token)
    {
        var audit = (IAuditTrail<IRaftLogEntry>)_log.AuditTrail;
        string? credential;
        lock (_pullLock)
        {
            credential = _pullCredential;
        }

        var request = new LearnerTailRequest(NodeId, _options.RaftAdvertise, _options.GrpcAdvertise, _options.HttpAdvertise, _log.LastCommittedIndex + 1, credential);
        var dataDir = Path.GetFullPath(_options.DataDir);
        var incoming = Path.Combine(dataDir, "snapshot-pull.incoming");
        FileStream? file = null;
        try
        {
            await foreach (var item in peers.TailAsync(leader, request, token).ConfigureAwait(false))
            {
                if (IsLeader || PullFinished())
                {
                    return;
                }

                if (item.SnapshotChunk is { } chunk)
                {
                    file ??= new FileStream(incoming, FileMode.Create, FileAccess.Write, FileShare.None, 1, FileOptions.Asynchronous);
                    await file.WriteAsync(chunk, token).ConfigureAwait(false);
                    if (item.SnapshotDone)
                    {
                        await file.DisposeAsync().ConfigureAwait(false);
                        file = null;
                        var pulled = new PulledSnapshot(Path.Combine(dataDir, $"{PulledPrefix}{item.SnapshotIndex}.snapshot"), item.SnapshotIndex, item.SnapshotTerm);
                        await StagePulledAsync(incoming, pulled, token).ConfigureAwait(false);
                        await WaitPulledInstalledAsync(pulled, token).ConfigureAwait(false);
                    }

                    continue;
                }

                if (item.Entries.Count == 0)
                {
                    continue; // keep-alive
                }

                var first = item.Entries[0].Index;
                var entries = item.Entries.Select(e => new TailLogEntry(e.Term, e.IsConfiguration, e.Payload)).ToList();
                await audit.AppendAsync(new LogEntryProducer<TailLogEntry>(entries), first, skipCommitted: true, token).ConfigureAwait(false); // not committed: see the remarks
                lock (_pullLock)
                {
                    SignalPull();
                }
            }
        }
        finally
        {
            if (file is not null)
            {
                await file.DisposeAsync().ConfigureAwait(false);
            }

            File.Delete(incoming);
        }
    }

    /// <summary>Files of pulled snapshots in the data directory (<c>{prefix}{index}.snapshot</c>; left by a crash, deleted at start).</summary>
    private const string PulledPrefix = "snapshot-pull-";

    /// <summary>Makes <paramref name="pulled"/> the snapshot to install, replacing (and deleting) an older one not installed.</summary>
    private async Task StagePulledAsync(string incoming, PulledSnapshot pulled, CancellationToken token)
    {
        await _pullInstall.WaitAsync(token).ConfigureAwait(false); // not while an installation reads the file it replaces
        try
        {
            PulledSnapshot? old;
            File.Move(incoming, pulled.Path, overwrite: true);
            lock (_pullLock)
            {
                old = _pulled;
                _pulled = pulled;
                SignalPull();
            }

            if (old is not null && old.Path != pulled.Path)
            {
                File.Delete(old.Path);
            }
        }
        finally
        {
            _pullInstall.Release();
        }

        LogSnapshotPulled(_logger, pulled.Index, new FileInfo(pulled.Path).Length);
    }

    /// <summary>Deletes pulled snapshots a crash left (at start, before anything pulls).</summary>
    private static void DeleteLeftoverPulls(string dataDir)
    {
        if (Directory.Exists(dataDir))
        {
            foreach (var file in Directory.EnumerateFiles(dataDir, PulledPrefix + "*"))
            {
                File.Delete(file);
            }
        }
    }

    /// <summary>Entries after a pulled snapshot can only be appended once it is installed: by this task when it is below the
    /// highest reference received, else by the handler of a reference at or above it.</summary>
    private async Task WaitPulledInstalledAsync(PulledSnapshot pulled, CancellationToken token)
    {
        while (_log.LastCommittedIndex < pulled.Index && !token.IsCancellationRequested && !PullFinished())
        {
            Task progress;
            long target;
            lock (_pullLock)
            {
                if (!ReferenceEquals(_pulled, pulled))
                {
                    return;
                }

                progress = _pullProgress.Task;
                target = _pullTarget;
            }

            if (pulled.Index < target)
            {
                await InstallPulledAsync(pulled).ConfigureAwait(false);
                continue;
            }

            await progress.WaitAsync(TimeSpan.FromSeconds(1), _options.TimeProvider, token).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        }
    }

    /// <summary>Installs <paramref name="pulled"/> (once) and deletes its file. Only this node's stop cancels it: an
    /// installation cut short would be retried from the start, and the Raft request waiting for it fails on its own.</summary>
    private async Task InstallPulledAsync(PulledSnapshot pulled)
    {
        await _pullInstall.WaitAsync(_stop.Token).ConfigureAwait(false);
        try
        {
            lock (_pullLock)
            {
                if (!ReferenceEquals(_pulled, pulled))
                {
                    return;
                }
            }

            var audit = (IAuditTrail<IRaftLogEntry>)_log.AuditTrail;
            await audit.AppendAsync(new SnapshotFileEntry(pulled.Path, pulled.Term), pulled.Index, _stop.Token).ConfigureAwait(false);
            Interlocked.Increment(ref _pulledInstalled);
            LogPulledSnapshotInstalled(_logger, pulled.Index);
            lock (_pullLock)
            {
                _pulled = null;
                SignalPull();
            }

            File.Delete(pulled.Path);
        }
        finally
        {
            _pullInstall.Release();
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Snapshot pull from {Source}: {Error}")]
    private static partial void LogPullError(ILogger logger, string source, string error);

    [LoggerMessage(Level = LogLevel.Information, Message = "Pulled the leader's snapshot at index {Index} ({Bytes} bytes)")]
    private static partial void LogSnapshotPulled(ILogger logger, long index, long bytes);

    [LoggerMessage(Level = LogLevel.Information, Message = "Installed the pulled snapshot at index {Index}")]
    private static partial void LogPulledSnapshotInstalled(ILogger logger, long index);
}
