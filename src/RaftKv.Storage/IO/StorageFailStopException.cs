namespace RaftKv.Storage.IO;

/// <summary>
/// A write or fsync was refused or failed fatally: the node has fail-stopped (<see cref="StorageFailStop"/>).
/// Nothing written since the last successful fsync of the file may be assumed durable, and nothing
/// more will be written. It is an <see cref="IOException"/> so every I/O error path treats it as
/// one, but unlike <see cref="DiskFullException"/> it is never retried.
/// </summary>
public sealed class StorageFailStopException : IOException
{
    private const int Eio = 5; // not ENOSPC: DiskFullException.IsDiskFull must never match it

    public StorageFailStopException(StorageFault fault, bool first)
        : base(first
            ? $"fatal storage error, the node fail-stops: {fault.Describe()}"
            : $"refused: the node fail-stopped after a fatal storage error ({fault.Describe()})", fault.Cause)
    {
        Fault = fault;
        HResult = Eio;
    }

    /// <summary>The fault that stopped the node (the first one).</summary>
    public StorageFault Fault { get; }
}
