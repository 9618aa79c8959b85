using System.Globalization;
using DotNext.Net.Cluster.Consensus.Raft.StateMachine;
using Microsoft.Extensions.Logging;
using RaftKv.Storage;
using RaftKv.Storage.IO;

namespace RaftKv.Replication.State;

/// <summary>
/// The replicated state machine: applies committed commands, in log order, to the LSM store.
/// Deterministic — no local clock, no randomness: time is the logical clock (the largest leader
/// timestamp applied), kept in the store under a reserved key so it is part of every snapshot.
/// </summary>
/// <remarks>
/// <para>Snapshots are LSM checkpoints kept as directories <c>{DataDir}/snapshots/{index:D20}-{term}</c>.
/// <see cref="Snapshot"/> is the newest one; the Raft log drops entries up to its index, so every
/// entry ≤ <see cref="Snapshot"/>.Index MUST be durable in the store first (a checkpoint is taken
/// of flushed tables only, so it is).</para>
/// <para>Concurrency: the log (<see cref="Log.RaftLog"/>, or DotNext's WAL through <see cref="ApplyAsync"/>)
/// applies from one applier task; snapshot
/// creation runs on a background task and only swaps <c>_snapshot</c>; <c>_termLock</c> guards
/// <c>_terms</c>.</para>
/// </remarks>
internal sealed partial class KvState : IStateMachine, Log.IRaftStateMachine, IDisposable
{
    private readonly IKvStore _store;
    private readonly IFileSystem _fs;
    private readonly string _snapshotsDir;
    private readonly ILogger _logger;
    private readonly TimeProvider _time;
    private readonly Lock _termLock = new();
    private readonly List<(long FromIndex, long Term)> _terms = [];
    private readonly SemaphoreSlim _snapshotLock = new(1, 1);
    private volatile CheckpointSnapshot? _snapshot;
    private long _clock;

    private KvState(IKvStore store, IFileSystem fs, string snapshotsDir, ILogger logger, TimeProvider time)
    {
        _store = store;
        _fs = fs;
        _snapshotsDir = snapshotsDir;
        _logger = logger;
        _time = time;
        Hashes = new StateHasher(store, logger);
    }

    public IKvStore Store => _store;

    public WatchHub Watch { get; } = new();

    /// <summary>The replicated logical clock (unix ms).</summary>
    public long LogicalClock => Interlocked.Read(ref _clock);

    public long SnapshotsInstalled;

    public long SnapshotsTaken;

    public ISnapshot? Snapshot => _snapshot;

    /// <summary>
    /// Opens the store and restores the newest snapshot. MUST complete before the log is opened. Every
    /// snapshot file and directory is accessed through <paramref name="fs"/> (so crash tests cover them).
    /// </summary>
    public static Task<KvState> RestoreAsync(IKvStore store, IFileSystem fs, string snapshotsDir, ILogger logger, TimeProvider time, CancellationToken cancellationToken)
    {
        fs.CreateDirectory(snapshotsDir);
        var state = new KvState(store, fs, snapshotsDir, logger, time);
        foreach (var name in fs.ListDirectories(snapshotsDir).Where(d => d.StartsWith("tmp-", StringComparison.Ordinal) || d.StartsWith("incoming-", StringComparison.Ordinal)))
        {
            fs.DeleteDirectory(Path.Combine(snapshotsDir, name)); // unfinished checkpoints or transfers
        }

        foreach (var name in fs.ListFiles(snapshotsDir).Where(f => f.StartsWith("incoming-", StringComparison.Ordinal)))
        {
            fs.Delete(Path.Combine(snapshotsDir, name)); // a transfer's packed payload
        }

        var snapshots = ListSnapshots(fs, snapshotsDir).ToList();
        if (snapshots.Count > 0)
        {
            var newest = snapshots.MaxBy(s => (s.Index, s.Generation));
            state._snapshot = new CheckpointSnapshot(fs, newest.Directory!, newest.Index, newest.Term, time.GetUtcNow()) { Generation = newest.Generation };
            state.RecordTerm(newest.Index, newest.Term);
        }

        var hasApplied = store.AppliedIndex > 0;
        if (store.GetMetadata(ReservedKeys.Clock, 0)?.LocalValue is { } clock)
        {
            state._clock = BitConverter.ToInt64(clock.Span); // 8 bytes: local even when archived (keys file)
            hasApplied = true;
        }

        state.LoadTtlHorizon(hasApplied); // KvState.TtlHorizon.cs

        store.LogicalClockUnixMs = state._clock;
        state.Alarms.Load(store);
        state.Learners.Load(store);
        state.LoadClusterUid(store);
        state.LoadRevision();
        state.Leases.Load(store);
        state.Auth.Load(store);
        return Task.FromResult(state);
    }

    /// <summary>Releases the snapshot lock. Call after the log that applies to this state is disposed; the store is its owner's.</summary>
    public void Dispose()
    {
        _snapshotLock.Dispose();
        Hashes.Dispose();
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

    int Log.IRaftStateMachine.ProtocolVersion => ((IStateMachine)this).Version;

    public ValueTask ReclaimGarbageAsync(long watermark, CancellationToken token)
    {
        var current = _snapshot;
        foreach (var s in ListSnapshots(_fs, _snapshotsDir))
        {
            var replaced = current is not null && s.Index == current.Index && s.Generation < current.Generation;
            if ((s.Index < watermark || replaced) && s.Directory != current?.Directory)
            {
                DeleteSnapshot(s.Directory!);
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

    /// <summary>Checkpoints the store's durable state as a new snapshot (the Raft log may then drop its entries up to it).</summary>
    public Task<long> TakeSnapshotAsync(CancellationToken cancellationToken) => TakeSnapshotAsync(refresh: false, cancellationToken);

    /// <summary>
    /// Checkpoints the store's durable state as a new snapshot. With <paramref name="refresh"/>, a checkpoint at
    /// the current snapshot's index replaces it too (a new generation, <c>{index:D20}-{term}-{generation}</c>):
    /// the old one may hard-link local table files the store has since archived or compacted away, which it
    /// would otherwise keep on local disk until the next write.
    /// </summary>
    /// <remarks>The new directory is complete and durable (renamed from <c>tmp-…</c>, parent synced) before it
    /// replaces <see cref="Snapshot"/>; only then is a same-index predecessor deleted (a crash in between leaves
    /// both, and the newest generation wins at restart; <see cref="ReclaimGarbageAsync"/> removes the other).</remarks>
    public async Task<long> TakeSnapshotAsync(bool refresh, CancellationToken cancellationToken)
    {
        await _snapshotLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var tmp = Path.Combine(_snapshotsDir, "tmp-" + Guid.NewGuid().ToString("N"));
            var index = await _store.CheckpointAsync(tmp, cancellationToken).ConfigureAwait(false);
            var current = _snapshot;
            if (index == 0 || (current is not null && (current.Index > index || (current.Index == index && !refresh))))
            {
                _fs.DeleteDirectory(tmp);
                return current?.Index ?? 0;
            }

            var term = TermAt(index);
            var generation = current is not null && current.Index == index ? current.Generation + 1 : 0;
            var name = generation == 0
                ? string.Create(CultureInfo.InvariantCulture, $"{index:D20}-{term}")
                : string.Create(CultureInfo.InvariantCulture, $"{index:D20}-{term}-{generation}");
            var final = Path.Combine(_snapshotsDir, name);
            if (generation > 0 && _fs.DirectoryExists(final))
            {
                // Left by a refresh cut short before its checkpoint was complete (a complete one would be
                // the current snapshot, being the newest generation): garbage.
                _fs.DeleteDirectory(final);
            }

            _fs.RenameDirectory(tmp, final);
            _fs.SyncDirectory(_snapshotsDir);
            _snapshot = new CheckpointSnapshot(_fs, final, index, term, _time.GetUtcNow()) { Generation = generation };
            Interlocked.Increment(ref SnapshotsTaken);
            LogSnapshotTaken(_logger, index, term);
            if (generation > 0)
            {
                DeleteSnapshot(current!.Directory); // same index: the log needs nothing from it
            }

            return index;
        }
        finally
        {
            _snapshotLock.Release();
        }
    }

    /// <summary>Bytes of the current snapshot's whole table files (<c>NNNNNN.sst</c>, hard links) whose tables
    /// are not in <paramref name="localTableIds"/>, and of its value files (<c>{id}.blob</c>) that
    /// <paramref name="storeDirectory"/> no longer has: local disk only this snapshot keeps in use.</summary>
    public long SnapshotOnlyBytes(IReadOnlySet<long> localTableIds, string storeDirectory)
    {
        if (_snapshot is not { } snapshot)
        {
            return 0;
        }

        long bytes = 0;
        foreach (var file in _fs.ListFiles(snapshot.Directory))
        {
            var snapshotOnly = file.EndsWith(".sst", StringComparison.Ordinal)
                ? long.TryParse(Path.GetFileNameWithoutExtension(file), NumberStyles.None, CultureInfo.InvariantCulture, out var id) && !localTableIds.Contains(id)
                : file.EndsWith(".blob", StringComparison.Ordinal) && !_fs.Exists(Path.Combine(storeDirectory, file));
            if (snapshotOnly)
            {
                try
                {
                    bytes += _fs.GetLength(Path.Combine(snapshot.Directory, file));
                }
                catch (IOException)
                {
                    // replaced meanwhile: nothing pinned any more
                }
            }
        }

        return bytes;
    }

    private void DeleteSnapshot(string directory)
    {
        try
        {
            _fs.DeleteDirectory(directory);
        }
        catch (IOException e)
        {
            LogReclaimFailed(_logger, directory, e.Message);
        }
    }

    /// <summary>Snapshot directories: <c>{index:D20}-{term}</c>, or <c>{index:D20}-{term}-{generation}</c> for a
    /// refresh at the same index (<see cref="TakeSnapshotAsync(bool, CancellationToken)"/>).</summary>
    private static IEnumerable<(string? Directory, long Index, long Term, long Generation)> ListSnapshots(IFileSystem fs, string dir)
    {
        foreach (var name in fs.ListDirectories(dir))
        {
            var d = Path.Combine(dir, name);
            var parts = name.Split('-');
            long generation = 0;
            if (parts.Length is 2 or 3
                && long.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out var index)
                && long.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out var term)
                && (parts.Length == 2 || long.TryParse(parts[2], NumberStyles.None, CultureInfo.InvariantCulture, out generation))
                && fs.Exists(Path.Combine(d, LsmStore.CheckpointManifestName)))
            {
                yield return (d, index, term, generation);
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
