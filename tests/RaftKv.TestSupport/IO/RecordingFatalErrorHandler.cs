using RaftKv.Storage.IO;

namespace RaftKv.TestSupport.IO;

/// <summary>
/// The in-process stand-in for the server's exit-on-fatal-error handler: records every fatal storage
/// error instead of ending the process. The node it belongs to is fail-stopped from the first fault on
/// (its <see cref="FailStopFileSystem"/> refuses every write); the test then stops it and reopens the
/// data as a restart would.
/// </summary>
public sealed class RecordingFatalErrorHandler : IFatalErrorHandler
{
    private readonly Lock _lock = new();
    private readonly List<StorageFault> _faults = [];
    private readonly TaskCompletionSource<StorageFault> _first = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Completes with the first fault.</summary>
    public Task<StorageFault> Fired => _first.Task;

    public IReadOnlyList<StorageFault> Faults
    {
        get
        {
            lock (_lock)
            {
                return [.. _faults];
            }
        }
    }

    public void OnFatalStorageError(StorageFault fault)
    {
        lock (_lock)
        {
            _faults.Add(fault);
        }

        _first.TrySetResult(fault);
    }
}
