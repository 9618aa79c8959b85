namespace RaftKv.Storage.IO;

/// <summary>
/// What the process does about a fatal storage error (a failed fsync, an I/O error writing data):
/// the one home for them, fed by <see cref="StorageFailStop"/>. The server's handler logs the fault and
/// exits the process at once with a distinct exit code, without a graceful shutdown
/// (docs/operations.md, "Fatal storage errors"); in-process tests record the fault and stop the node.
/// </summary>
/// <remarks>
/// Called once per <see cref="StorageFailStop"/>, on the thread that hit the error, before the error
/// propagates. An implementation may return: the caller then throws <see cref="StorageFailStopException"/>
/// and every later write or fsync through the same <see cref="FailStopFileSystem"/> is refused, so
/// nothing more becomes durable (nor is acknowledged as such) — the node is as good as stopped. It
/// MUST NOT retry the failed operation (after a failed fsync the kernel may have dropped the dirty
/// pages, and a second fsync can succeed without them).
/// </remarks>
public interface IFatalErrorHandler
{
    void OnFatalStorageError(StorageFault fault);
}
