using RaftKv.Replication.Api;

namespace RaftKv.Replication.State;

/// <summary>
/// Carries the outcome of a locally proposed entry from the apply loop back to the proposer, and
/// the proposer's pre-read values to the local apply. Local only: nothing here is replicated, so
/// what it holds may differ between nodes without touching the state's determinism.
/// </summary>
internal sealed class ApplyResult
{
    private readonly TaskCompletionSource<TxnResult> _tcs = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Entries the proposer read before proposing (keys of prev_kv and txn Get ops), so an
    /// op result can carry a value that is only in the object store without the apply reading it:
    /// used when the key's version at apply equals the pre-read one.</summary>
    public IReadOnlyList<KeyValue> PreRead { get; init; } = [];

    public Task<TxnResult> Task => _tcs.Task;

    /// <summary>Set when a resolved value compare went stale (<see cref="Commands.ResolvedCompare"/>):
    /// the entry applied nothing but the clock; the proposer resolves again and re-proposes.</summary>
    public bool Conflict { get; private set; }

    /// <summary>Set when an op result lacks a value (prev_kv or Get) that only the object store has
    /// and the proposer had not pre-read at that version (it changed in between and was archived).</summary>
    public bool ValueMissing { get; private set; }

    /// <summary>The id of the lease a grant created (set by the apply before it completes the result).</summary>
    public long LeaseId { get; set; }

    /// <summary>The TTL of the lease a grant created.</summary>
    public long LeaseTtl { get; set; }

    private List<(OpResult Placeholder, Task<RangeResult> Read)>? _reads;

    /// <summary>The history reads of a txn's ranges with a revision (command format version 6), started by the apply
    /// on this node only, each with the op result it completes (by reference). Read by the proposer after <see cref="Task"/>.</summary>
    public IReadOnlyList<(OpResult Placeholder, Task<RangeResult> Read)>? HistoryReads => _reads;

    /// <summary>The proposer's token for those reads: canceled once it no longer waits for them (answered, timed out,
    /// conflict), so an abandoned scan ends and releases the store view it pinned.</summary>
    public CancellationToken HistoryReadToken { get; init; }

    public void AddHistoryRead(OpResult placeholder, Task<RangeResult> read) => (_reads ??= []).Add((placeholder, read));

    public void Set(TxnResult result) => _tcs.TrySetResult(result);

    public void SetConflict(long index)
    {
        Conflict = true;
        _tcs.TrySetResult(new TxnResult(index, false, []));
    }

    public void MarkValueMissing() => ValueMissing = true;

    public void Fail(Exception e) => _tcs.TrySetException(e);

    /// <summary>The pre-read entry of <paramref name="key"/> at mod revision <paramref name="modRevision"/>, if any.</summary>
    public KeyValue? FindPreRead(ReadOnlySpan<byte> key, long modRevision)
    {
        foreach (var e in PreRead)
        {
            if (e.ModRevision == modRevision && e.Key.Span.SequenceEqual(key))
            {
                return e;
            }
        }

        return null;
    }
}
