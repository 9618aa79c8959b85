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

    /// <summary>Called by the apply of each <see cref="CommandKind.SimpleToken"/> that stands (the applier's thread: keep
    /// it short). Set once by the node before the first apply.</summary>
    public Action<SimpleTokenGrant>? SimpleTokenAssigned { get; set; }

    private (TxnResult Result, bool Conflict, Exception? Error) ApplyAuth(long index, KvCommand command, WriteOp clockOp, long revision, long compactRevision)
    {
        var change = command.Auth ?? throw new UnsupportedCommandVersionException("auth command without a body");
        if (command.Kind == CommandKind.SimpleToken)
        {
            return ApplySimpleToken(index, command, change, clockOp, revision, compactRevision);
        }

        var (next, ops, error) = Auth.Change(command.Kind, change);
        ops.Add(clockOp);
        ApplyBatch(index, ops, revision, compactRevision);
        if (next is not null)
        {
            Auth.Publish(next);
        }

        return (new TxnResult(index, error is null, [], revision), false, error);
    }

    /// <summary>Only the clock is written. The token stands while auth is enabled and its user has not changed since
    /// the password was checked (etcd's Authenticate retries when the auth revision moved meanwhile); otherwise the
    /// proposer gets <see cref="AuthError.AuthOldRevision"/> and checks the password again.</summary>
    private (TxnResult Result, bool Conflict, Exception? Error) ApplySimpleToken(long index, KvCommand command, AuthChange change, WriteOp clockOp, long revision, long compactRevision)
    {
        ApplyBatch(index, [clockOp], revision, compactRevision);
        var state = Auth.Current;
        if (!state.Enabled || change.Secret is not { Length: 32 } digest || state.User(change.Name) is not { } user || command.Revision < user.Revision)
        {
            return (new TxnResult(index, false, [], revision), false, new AuthException(AuthError.AuthOldRevision, "revision of auth store is old"));
        }

        SimpleTokenAssigned?.Invoke(new SimpleTokenGrant(digest, user.Name, command.Revision));
        return (new TxnResult(index, true, [], revision), false, null);
    }
}
