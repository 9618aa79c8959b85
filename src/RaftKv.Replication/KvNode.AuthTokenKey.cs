using System.Security.Cryptography;
using RaftKv.Replication.Auth;
using RaftKv.Replication.Commands;

namespace RaftKv.Replication;

/// <summary>
/// The token signing key of an auth state imported enabled (<c>raftkv restore</c> of etcd's snapshot,
/// Backup/EtcdAuthImport.cs), the leader's side: every member was restored alone from the same file, so none could
/// draw the cluster's key; a leader whose state is enabled without a key proposes an AuthEnable with 32 random
/// bytes, which the applier keeps as the key (it keeps a key only when the state has none). Checked on every
/// metadata round (<c>KvNode.Background.cs</c>). AuthEnable is an old command kind: no feature gate.
/// </summary>
public sealed partial class KvNode
{
    /// <summary>Leader only, metadata loop: proposes a token key while auth is enabled without one.</summary>
    private async Task EnsureAuthTokenKeyAsync(CancellationToken token)
    {
        if (!IsLeader || IsLearner || _state.Auth.Current is not { Enabled: true, TokenKey.Length: 0 })
        {
            return;
        }

        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(token);
        timeout.CancelAfter(_options.OperationTimeout);
        await ProposeAsync(new KvCommand(CommandKind.AuthEnable, NextTimestamp(), null, null, Auth: new AuthChange(Secret: RandomNumberGenerator.GetBytes(32))), timeout.Token).ConfigureAwait(false);
    }
}
