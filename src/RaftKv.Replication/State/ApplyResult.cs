using RaftKv.Replication.Api;

namespace RaftKv.Replication.State;

/// <summary>Carries the outcome of a locally proposed entry from the apply loop back to the proposer.</summary>
internal sealed class ApplyResult
{
    private readonly TaskCompletionSource<TxnResult> _tcs = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public Task<TxnResult> Task => _tcs.Task;

    public void Set(TxnResult result) => _tcs.TrySetResult(result);

    public void Fail(Exception e) => _tcs.TrySetException(e);
}
