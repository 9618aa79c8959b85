using System.Globalization;
using DotNext.Net.Cluster.Consensus.Raft.StateMachine;
using Microsoft.Extensions.Logging;
using RaftKv.Storage;

namespace RaftKv.Replication.State;

/// <summary>
/// The replicated state machine: applies committed commands, in log order, to the LSM store.
/// Deterministic — no local clock, no randomness: time is the logical clock (the largest leader
/// timestamp applied), kept in the store under a reserved key so it is part of every snapshot.
/// </summary>
/// <remarks>
/// <para>Snapshots are LSM checkpoints kept as directories <c>{DataDir}/snapshots/{index:D20}-{term}</c>.
/// <see cref="Snapshot"/> is the newest one; the WAL drops log entries up to its index, so every
/// entry ≤ <see cref="Snapshot"/>.Index MUST be durable in the store first (a checkpoint is taken
/// of flushed tables only, so it is).</para>
/// <para>Concurrency: the WAL calls <see cref="ApplyAsync"/> from one applier task; snapshot
/// creation runs on a background task and only swaps <c>_snapshot</c>; <c>_termLock</c> guards
/// <c>_terms</c>.</para>
/// </remarks>
internal sealed partial class KvState : IStateMachine
{
    private readonly LsmStore _store;
    private readonly string _snapshotsDir;
    private readonly ILogger _logger;
    private readonly TimeProvider _time;
    private readonly Lock _termLock = new();
    private readonly List<(long FromIndex, long Term)> _terms = [];
    private readonly SemaphoreSlim _snapshotLock = new(1, 1);
    private volatile CheckpointSnapshot? _snapshot;
    private long _clock;

    private KvState(LsmStore store, string snapshotsDir, ILogger logger, TimeProvider time)
    {
        _store = store;
        _snapshotsDir = snapshotsDir;
        _logger = logger;
        _time = time;
    }

    public LsmStore Store => _store;

    public WatchHub Watch { get; } = new();

    /// <summary>The replicated logical clock (unix ms).</summary>
    public long LogicalClock => Interlocked.Read(ref _clock);

    public long SnapshotsInstalled;

    public long SnapshotsTaken;

    public ISnapshot? Snapshot => _snapshot;

    /// <summary>Opens the store and restores the newest snapshot. MUST complete before the WAL is constructed.</summary>
    public static Task<KvState> RestoreAsync(LsmStore store, string snapshotsDir, ILogger logger, TimeProvider time, CancellationToken cancellationToken)
    {
        Directory.CreateDirectory(snapshotsDir);
        var state = new KvState(store, snapshotsDir, logger, time);
        foreach (var dir in Directory.GetDirectories(snapshotsDir).Where(d => Path.GetFileName(d).StartsWith("tmp-", StringComparison.Ordinal) || Path.GetFileName(d).StartsWith("incoming-", StringComparison.Ordinal)))
        {
            Directory.Delete(dir, recursive: true); // unfinished checkpoints or transfers
        }

        var snapshots = ListSnapshots(snapshotsDir).ToList();
        if (snapshots.Count > 0)
        {
            var newest = snapshots.MaxBy(s => s.Index);
            state._snapshot = new CheckpointSnapshot(newest.Directory!, newest.Index, newest.Term, time.GetUtcNow());
            state.RecordTerm(newest.Index, newest.Term);
        }

        if (store.GetMetadata(ReservedKeys.Clock, 0)?.LocalValue is { } clock)
        {
            state._clock = BitConverter.ToInt64(clock.Span); // 8 bytes: local even when archived (keys file)
        }

        store.LogicalClockUnixMs = state._clock;
        return Task.FromResult(state);
    }

    /// <summary>The term of the entry at <paramref name="index"/> (from the applied entries seen).</summary>
    public long TermAt(long index)
    {
        lock (_termLock)
        {
            long term = 0;
            foreach (var (from, t) in _terms)
            {
                if (from <= index)
                {
                    term = t;
                }
            }

            return term;
        }
    }

    private void RecordTerm(long index, long term)
    {
        lock (_termLock)
        {
            if (_terms.Count == 0 || _terms[^1].Term != term)
            {
                _terms.Add((index, term));
            }
        }
    }

    ValueTask ISnapshotManager.ReclaimGarbageAsync(long watermark, CancellationToken token)
    {
        foreach (var s in ListSnapshots(_snapshotsDir))
        {
            if (s.Index < watermark && s.Directory != _snapshot?.Directory)
            {
                try
                {
                    Directory.Delete(s.Directory!, recursive: true);
                }
                catch (IOException e)
                {
                    LogReclaimFailed(_logger, s.Directory!, e.Message);
                }
            }
        }

        lock (_termLock)
        {
            // Keep the range covering the watermark; older ones can no longer be asked for.
            while (_terms.Count > 1 && _terms[1].FromIndex <= watermark)
            {
                _terms.RemoveAt(0);
            }
        }

        return ValueTask.CompletedTask;
    }

    /// <summary>Checkpoints the store's durable state as a new snapshot (the WAL may then drop the log up to it).</summary>
    public async Task<long> TakeSnapshotAsync(CancellationToken cancellationToken)
    {
        await _snapshotLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var tmp = Path.Combine(_snapshotsDir, "tmp-" + Guid.NewGuid().ToString("N"));
            var index = await _store.CheckpointAsync(tmp, cancellationToken).ConfigureAwait(false);
            if (index == 0 || (_snapshot is { } current && current.Index >= index))
            {
                Directory.Delete(tmp, recursive: true);
                return _snapshot?.Index ?? 0;
            }

            var term = TermAt(index);
            var final = Path.Combine(_snapshotsDir, string.Create(CultureInfo.InvariantCulture, $"{index:D20}-{term}"));
            Directory.Move(tmp, final);
            Storage.IO.PhysicalFileSystem.Instance.SyncDirectory(_snapshotsDir);
            _snapshot = new CheckpointSnapshot(final, index, term, _time.GetUtcNow());
            Interlocked.Increment(ref SnapshotsTaken);
            LogSnapshotTaken(_logger, index, term);
            return index;
        }
        finally
        {
            _snapshotLock.Release();
        }
    }

    private static IEnumerable<(string? Directory, long Index, long Term)> ListSnapshots(string dir)
    {
        foreach (var d in Directory.GetDirectories(dir))
        {
            var parts = Path.GetFileName(d).Split('-');
            if (parts.Length == 2
                && long.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out var index)
                && long.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out var term)
                && File.Exists(Path.Combine(d, LsmStore.CheckpointManifestName)))
            {
                yield return (d, index, term);
            }
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Snapshot taken at index {Index} (term {Term})")]
    private static partial void LogSnapshotTaken(ILogger logger, long index, long term);

    [LoggerMessage(Level = LogLevel.Information, Message = "Snapshot installed at index {Index} (term {Term})")]
    private static partial void LogSnapshotInstalled(ILogger logger, long index, long term);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not delete old snapshot {Directory}: {Error}")]
    private static partial void LogReclaimFailed(ILogger logger, string directory, string error);
}
