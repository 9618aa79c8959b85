using DotNext.IO.Log;
using DotNext.Net.Cluster.Consensus.Raft;
using DotNext.Net.Cluster.Consensus.Raft.StateMachine;

namespace RaftKv.Replication.Log;

/// <summary>
/// The fence around the <see cref="WriteAheadLog"/> base: its public log API is hidden here, so a
/// call through a <see cref="RaftLog"/> reference reaches this log, never the base's empty WAL.
/// </summary>
/// <remarks>
/// DotNext itself calls the log only through <see cref="IPersistentState"/> and
/// <see cref="IAuditTrail{TEntry}"/>, which RaftLog re-implements explicitly (the explicit
/// implementations take precedence over these members in the interface map);
/// tests/RaftKv.Replication.Tests/Log/RaftLogShimTests.cs checks both. The members with a meaning
/// here forward to it; the ones without throw <see cref="NotSupportedException"/>.
/// </remarks>
internal sealed partial class RaftLog
{
    /// <summary>The base WAL's options: it stores nothing, so it should cost as little as possible.</summary>
    /// <remarks>
    /// <para>What DotNext 6.12's constructor does (checked against the package: RaftLogShimTests): it
    /// creates <c>dotnext/</c> with a node-state file (37 bytes), an empty checkpoint file and one
    /// memory-mapped 4 KiB page each under <c>metadata/</c> and <c>data/</c>, and starts two tasks, a
    /// flusher and an applier. 6.12 has no option that keeps them from starting (<c>FlushInterval</c>
    /// is obsolete and ignored; <c>PrivateMemory</c> trades the two files for ~6 MB of anonymous
    /// memory). Both tasks are async waits, not threads: the flusher wakes only on the base's own
    /// append/commit and the applier only on the base's own commit, which nothing calls (DotNext goes
    /// through the interfaces, which map to RaftLog; the base's public API is hidden below). So they
    /// sleep for the node's lifetime and end when the base is disposed.</para>
    /// </remarks>
    private static Options ShimOptions(string directory) => new()
    {
        Location = Path.Combine(directory, "dotnext"),
        MemoryManagement = MemoryManagementStrategy.SharedMemory,
        HashAlgorithm = IntegrityHashAlgorithm.None,
    };

    /// <summary>The last entry in this log.</summary>
    public new long LastEntryIndex => _store.LastIndex;

    /// <summary>This log's commit index.</summary>
    public new long LastCommittedEntryIndex => Interlocked.Read(ref _commitIndex);

    /// <inheritdoc cref="IAuditTrail{TEntry}.AppendAsync{TEntryImpl}(TEntryImpl, CancellationToken)"/>
    public new ValueTask<long> AppendAsync<TEntry>(TEntry entry, CancellationToken token = default)
        where TEntry : IRaftLogEntry
        => ((IAuditTrail<IRaftLogEntry>)this).AppendAsync(entry, token);

    /// <inheritdoc cref="IAuditTrail{TEntry}.AppendAsync{TEntryImpl}(TEntryImpl, long, CancellationToken)"/>
    public new ValueTask AppendAsync<TEntry>(TEntry entry, long startIndex, CancellationToken token = default)
        where TEntry : IRaftLogEntry
        => ((IAuditTrail<IRaftLogEntry>)this).AppendAsync(entry, startIndex, token);

    /// <inheritdoc cref="IAuditTrail{TEntry}.AppendAsync{TEntryImpl}(ILogEntryProducer{TEntryImpl}, long, bool, CancellationToken)"/>
    public new ValueTask AppendAsync<TEntry>(ILogEntryProducer<TEntry> entries, long startIndex, bool skipCommitted = false, CancellationToken token = default)
        where TEntry : IRaftLogEntry
        => ((IAuditTrail<IRaftLogEntry>)this).AppendAsync(entries, startIndex, skipCommitted, token);

    /// <inheritdoc cref="IAuditTrail.CommitAsync(long, CancellationToken)"/>
    public new ValueTask<long> CommitAsync(long endIndex, CancellationToken token = default)
        => ((IAuditTrail)this).CommitAsync(endIndex, token);

    /// <inheritdoc cref="IAuditTrail.WaitForApplyAsync(CancellationToken)"/>
    public new ValueTask WaitForApplyAsync(CancellationToken token = default)
        => ((IAuditTrail)this).WaitForApplyAsync(token);

    /// <inheritdoc cref="IAuditTrail.WaitForApplyAsync(long, CancellationToken)"/>
    public new ValueTask WaitForApplyAsync(long index, CancellationToken token = default)
        => WaitForAppliedAsync(index, token);

    ValueTask IReplicatedLog.WaitForAppliedAsync(long index, CancellationToken token) => WaitForAppliedAsync(index, token);

    /// <inheritdoc cref="IAuditTrail{TEntry}.ReadAsync{TResult}(ILogEntryConsumer{TEntry, TResult}, long, long, CancellationToken)"/>
    public new ValueTask<TResult> ReadAsync<TResult>(ILogEntryConsumer<IRaftLogEntry, TResult> reader, long startIndex, long endIndex, CancellationToken token = default)
        => ((IAuditTrail<IRaftLogEntry>)this).ReadAsync(reader, startIndex, endIndex, token);

    /// <summary>Not supported: the base's reader reads its own (empty) pages.</summary>
    public new ValueTask<LogEntryReader> ReadAsync(long startIndex, long endIndex, CancellationToken token = default)
        => throw new NotSupportedException("RaftLog does not read through DotNext's WAL reader; use IAuditTrail.ReadAsync");

    /// <summary>Waits until everything appended before the call is durable (one write + fsync).</summary>
    public new Task FlushAsync(CancellationToken token = default) => WaitFlushAsync(token).AsTask();

    /// <summary>Not supported: the base's import copies into its own (unused) pages.</summary>
    public new Task ImportAsync(WriteAheadLog other, CancellationToken token)
        => throw new NotSupportedException("RaftLog cannot import a DotNext WAL");
}
