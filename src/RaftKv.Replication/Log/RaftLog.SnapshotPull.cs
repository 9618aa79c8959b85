using DotNext.Net.Cluster.Consensus.Raft;
using DotNext.Net.Cluster.Consensus.Raft.StateMachine;
using Microsoft.Extensions.Logging;

namespace RaftKv.Replication.Log;

/// <summary>
/// Snapshots too large for one Raft request (docs/architecture.md, "Snapshots too large for one Raft request"):
/// DotNext sends a snapshot in one InstallSnapshot request bounded by the Raft request timeout (half the election
/// timeout), so a store of a few hundred MB never reaches a follower that needs it. A leader sends a
/// <see cref="SnapshotReference"/> instead, and the follower pulls the snapshot and the entries after it from the
/// leader's tail stream (<c>KvNode.SnapshotPull.cs</c>); the leader pins the entries a running stream still has to
/// send (<see cref="Pin"/>).
/// </summary>
internal sealed partial class RaftLog
{
    private readonly Lock _pinLock = new();
    private readonly List<LogPin> _pins = []; // guarded by _pinLock
    private readonly byte[] _pullCredential = System.Security.Cryptography.RandomNumberGenerator.GetBytes(SnapshotReference.CredentialBytes);

    /// <summary>Leader: a snapshot larger than this many bytes is sent as a <see cref="SnapshotReference"/> (set by the
    /// node only while every voting member can pull); <see cref="long.MaxValue"/>: never.</summary>
    public long PullSnapshotsAboveBytes { get; set; } = long.MaxValue;

    /// <summary>Follower: called for a received <see cref="SnapshotReference"/> to (index, term); returns once this log's
    /// commit index has reached the index (the state is held), throws otherwise (DotNext then fails the request and the
    /// leader sends the reference again). Null: references are refused.</summary>
    public Func<SnapshotReference, CancellationToken, ValueTask>? SnapshotReferenceReceived { get; set; }

    /// <summary>Whether <paramref name="presented"/> is the credential this log puts in its references (constant time).</summary>
    public bool IsPullCredential(ReadOnlySpan<byte> presented)
        => presented.Length == _pullCredential.Length && System.Security.Cryptography.CryptographicOperations.FixedTimeEquals(presented, _pullCredential);

    /// <summary>Pinned entries are kept below a new snapshot only up to this many payload bytes (then a stream that is
    /// that far behind needs the snapshot again): a frozen stream must not make the leader's log grow without end.</summary>
    public long PinMaxBytes { get; set; } = DefaultPinMaxBytes;

    /// <summary>1 GiB.</summary>
    public const long DefaultPinMaxBytes = 1L << 30;

    /// <summary>Keeps entries from <paramref name="fromIndex"/> on in the log when it is compacted (up to
    /// <see cref="PinMaxBytes"/>) until the pin is disposed; the holder moves it forward as it sends.</summary>
    public LogPin Pin(long fromIndex)
    {
        var pin = new LogPin(this, fromIndex);
        lock (_pinLock)
        {
            _pins.Add(pin);
        }

        return pin;
    }

    internal void Unpin(LogPin pin)
    {
        lock (_pinLock)
        {
            _pins.Remove(pin);
        }
    }

    /// <summary>The lowest pinned index, or <see cref="long.MaxValue"/>.</summary>
    private long PinnedFrom()
    {
        lock (_pinLock)
        {
            var from = long.MaxValue;
            foreach (var pin in _pins)
            {
                from = Math.Min(from, pin.From);
            }

            return from;
        }
    }

    /// <summary>Where to compact to for <paramref name="snapshot"/>: the retained tail (RetainEntries, RetainBytes), or lower
    /// to keep pinned entries (at most <see cref="PinMaxBytes"/>). Caller holds <c>_appendLock</c>.</summary>
    private (long Index, long Term) CompactionBase(ISnapshot snapshot)
    {
        var retained = _store.RetainedBase(snapshot.Index, snapshot.Term, RetainEntries, RetainBytes);
        var pinned = PinnedFrom();
        if (pinned - 1 >= retained.Index)
        {
            return retained;
        }

        var keep = (int)Math.Min(int.MaxValue, snapshot.Index - (pinned - 1));
        var forPins = _store.RetainedBase(snapshot.Index, snapshot.Term, keep, PinMaxBytes);
        return forPins.Index < retained.Index ? forPins : retained;
    }

    /// <summary>A reference to the applied index (committed, at or above <paramref name="snapshotIndex"/>, so in the log):
    /// after it the follower's next entry is one this log still holds.</summary>
    private SnapshotReference ReferenceToApplied(long snapshotIndex)
    {
        var index = Math.Max(snapshotIndex, Interlocked.Read(ref _appliedIndex));
        var term = _store.TermAt(index);
        if (term < 0)
        {
            throw new InvalidOperationException($"applied entry {index} is not in the log (base {_store.BaseIndex})");
        }

        return new SnapshotReference(index, term, _pullCredential);
    }

    /// <summary>Term of the entry at <paramref name="index"/> in this log (the base term at the base), -1 if not held.</summary>
    public long TermAt(long index) => _store.TermAt(index);

    /// <summary>A received <see cref="SnapshotReference"/> (DotNext's InstallSnapshot, past this log's commit index).</summary>
    private async ValueTask OnSnapshotReferenceAsync<TEntry>(TEntry entry, long startIndex, CancellationToken token)
        where TEntry : IRaftLogEntry
    {
        var reference = SnapshotReference.Parse(await CopyPayloadAsync(entry, token).ConfigureAwait(false));
        if (reference.Index != startIndex)
        {
            throw new InvalidDataException($"snapshot reference to index {reference.Index} sent as a snapshot at {startIndex}");
        }

        var handler = SnapshotReferenceReceived ?? throw new InvalidOperationException("a snapshot reference arrived but this node cannot pull snapshots");
        await handler(reference, token).ConfigureAwait(false);
        if (Interlocked.Read(ref _commitIndex) < reference.Index)
        {
            throw new InvalidOperationException($"snapshot reference to {reference.Index}: the log's commit index is {Interlocked.Read(ref _commitIndex)}");
        }

        LogSnapshotReferenceReached(_logger, reference.Index);
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Pulled the leader's state up to index {Index} (snapshot reference)")]
    private static partial void LogSnapshotReferenceReached(ILogger logger, long index);
}
