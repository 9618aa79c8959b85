using RaftKv.Replication.Api;
using RaftKv.Replication.Auth;
using RaftKv.Replication.Commands;
using RaftKv.Storage;

namespace RaftKv.Replication.State;

/// <remarks>Users, roles and permissions at apply (docs/architecture.md, "Authentication"): the records are
/// reserved keys (<see cref="AuthKeys"/>), <see cref="Auth"/> mirrors them; a change is decided from the
/// mirror alone (<see cref="AuthTable.Change"/>), written in one batch with the clock, then published. The
/// MVCC revision does not move.</remarks>
internal sealed partial class KvState
{
    /// <summary>The replicated users, roles and permissions (a mirror of the auth records in the store).</summary>
    public AuthTable Auth { get; } = new();

    private (TxnResult Result, bool Conflict, Exception? Error) ApplyAuth(long index, KvCommand command, WriteOp clockOp, long revision, long compactRevision)
    {
        var change = command.Auth ?? throw new UnsupportedCommandVersionException("auth command without a body");
        var (next, ops, error) = Auth.Change(command.Kind, change);
        ops.Add(clockOp);
        ApplyBatch(index, ops, revision, compactRevision);
        if (next is not null)
        {
            Auth.Publish(next);
        }

        return (new TxnResult(index, error is null, [], revision), false, error);
    }
}
