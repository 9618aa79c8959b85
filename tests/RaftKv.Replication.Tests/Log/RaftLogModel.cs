using RaftKv.Replication.Log;

namespace RaftKv.Replication.Tests.Log;

/// <summary>
/// Reference model of <see cref="RaftLogStore"/> for the metamorphic test: the live log, the log as the
/// last successful flush left it on disk (rebuilt by applying the flushed operations, not copied from
/// the live log), the queued operations, and the counters the store exposes.
/// </summary>
/// <remarks>
/// A snapshot counts as durable as soon as <see cref="Compact"/> or <see cref="Reset"/> is called: the
/// node persists the snapshot before it tells the log (see <c>RaftLog.InstallSnapshotAsync</c>), so a
/// reopen after a crash passes the newest of them even when the reset record itself was not flushed.
/// </remarks>
internal sealed class RaftLogModel
{
    public enum OpKind
    {
        Entry,
        Truncate,
        Reset,
    }

    public LogState Mem { get; private set; } = new();

    /// <summary>What replaying the segments yields (before the snapshot filter).</summary>
    public LogState Durable { get; private set; } = new();

    public List<ModelOp> Pending { get; } = [];

    public long Commit { get; set; }

    public long DurableIndex { get; private set; }

    public long DurableCommit { get; private set; }

    /// <summary>The largest commit record any successful flush wrote.</summary>
    public long WrittenCommit { get; private set; }

    public long SnapshotIndex { get; private set; }

    public long SnapshotTerm { get; private set; }

    /// <summary>Flushes the current store instance should report.</summary>
    public long Flushes { get; private set; }

    public void Append(ModelEntry e)
    {
        var op = new ModelOp(OpKind.Entry, e, 0, 0);
        Mem.Apply(op);
        Pending.Add(op);
    }

    /// <returns>False when <paramref name="from"/> is past the end (the store ignores it).</returns>
    public bool TruncateFrom(long from)
    {
        if (from > Mem.Last)
        {
            return false;
        }

        var op = new ModelOp(OpKind.Truncate, null, from, 0);
        Mem.Apply(op);
        Pending.Add(op);
        DurableIndex = Math.Min(DurableIndex, from - 1);
        return true;
    }

    public void Reset(long baseIndex, long baseTerm)
    {
        var op = new ModelOp(OpKind.Reset, null, baseIndex, baseTerm);
        Mem.Apply(op);
        Pending.Add(op);
        DurableIndex = Math.Min(DurableIndex, baseIndex);
        DurableCommit = Math.Min(DurableCommit, baseIndex);
        Commit = Math.Max(Commit, baseIndex);
        (SnapshotIndex, SnapshotTerm) = (baseIndex, baseTerm);
    }

    public void Compact(long snapshotIndex, long snapshotTerm)
    {
        Mem.DropThrough(snapshotIndex, snapshotTerm);
        (SnapshotIndex, SnapshotTerm) = (snapshotIndex, snapshotTerm);
    }

    /// <returns>Whether the store must write (and count) a flush.</returns>
    public bool Flush(long commitIndex)
    {
        Commit = Math.Max(Commit, commitIndex);
        var commit = Math.Min(commitIndex, Mem.Last);
        var writeCommit = commit > DurableCommit;
        if (Pending.Count == 0 && !writeCommit)
        {
            return false;
        }

        foreach (var op in Pending)
        {
            Durable.Apply(op);
        }

        Pending.Clear();
        DurableIndex = Mem.Last;
        if (writeCommit)
        {
            DurableCommit = commit;
            WrittenCommit = Math.Max(WrittenCommit, commit);
        }

        Flushes++;
        return true;
    }

    /// <summary>The on-disk log after a torn flush of the pending operations: after 0..n of them.</summary>
    public List<LogState> TornCandidates()
    {
        var list = new List<LogState> { Durable.Clone() };
        var state = Durable.Clone();
        foreach (var op in Pending)
        {
            state.Apply(op);
            list.Add(state.Clone());
        }

        return list;
    }

    /// <summary>What <see cref="RaftLogStore.Open"/> should recover from <paramref name="onDisk"/> on top of the snapshot.</summary>
    public LogState Expected(LogState onDisk) => onDisk.AboveSnapshot(SnapshotIndex, SnapshotTerm);

    /// <summary>The store was reopened and recovered <paramref name="recovered"/>.</summary>
    public void Reopened(LogState recovered)
    {
        Mem = recovered.Clone();
        Durable = recovered.Clone();
        Pending.Clear();
        DurableIndex = recovered.Last;
        DurableCommit = Math.Max(SnapshotIndex, Math.Min(WrittenCommit, recovered.Last));
        Commit = DurableCommit;
        Flushes = 0;
    }

    public sealed record ModelEntry(long Index, long Term, long TimestampTicks, int? CommandId, bool IsConfiguration, byte[] Payload)
    {
        /// <summary>A fresh record for the store (it owns the record and may drop its payload reference).</summary>
        public LogRecord ToRecord() => new()
        {
            Index = Index,
            Term = Term,
            TimestampTicks = TimestampTicks,
            CommandId = CommandId,
            IsConfiguration = IsConfiguration,
            Length = Payload.Length,
            Payload = (byte[])Payload.Clone(),
        };
    }

    public readonly record struct ModelOp(OpKind Kind, ModelEntry? Entry, long A, long B);

    public sealed class LogState
    {
        public long Base { get; private set; }

        public long BaseTerm { get; private set; }

        public List<ModelEntry> Entries { get; private set; } = [];

        public long Last => Base + Entries.Count;

        public long TermAt(long index) => index == Base ? BaseTerm : index > Base && index <= Last ? Entries[(int)(index - Base - 1)].Term : -1;

        public LogState Clone() => new() { Base = Base, BaseTerm = BaseTerm, Entries = [.. Entries] };

        public void Apply(ModelOp op)
        {
            switch (op.Kind)
            {
                case OpKind.Entry:
                    var e = op.Entry!;
                    if (e.Index != Last + 1)
                    {
                        throw new InvalidOperationException($"model: entry {e.Index} does not follow {Last}");
                    }

                    Entries.Add(e);
                    break;
                case OpKind.Truncate:
                    var keep = (int)Math.Clamp(op.A - Base - 1, 0, Entries.Count);
                    Entries.RemoveRange(keep, Entries.Count - keep);
                    break;
                case OpKind.Reset:
                    Entries.Clear();
                    Base = op.A;
                    BaseTerm = op.B;
                    break;
            }
        }

        public void DropThrough(long index, long term)
        {
            var drop = (int)Math.Clamp(index - Base, 0, Entries.Count);
            Entries.RemoveRange(0, drop);
            if (index > Base + drop)
            {
                Entries.Clear();
            }

            Base = index;
            BaseTerm = term;
        }

        public LogState AboveSnapshot(long snapshotIndex, long snapshotTerm)
        {
            if (Base > snapshotIndex)
            {
                throw new InvalidOperationException($"model: the durable log starts after {Base}, past the snapshot {snapshotIndex}");
            }

            var s = Clone();
            s.DropThrough(snapshotIndex, snapshotTerm);
            if (s.Entries.Count > 0 && s.Entries[0].Term < snapshotTerm)
            {
                // Terms never decrease along a log: a suffix older than the snapshot is stale (its
                // reset record was lost) and the store drops it on open.
                s.Entries.Clear();
            }

            return s;
        }
    }
}
