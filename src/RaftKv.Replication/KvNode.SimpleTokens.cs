using RaftKv.Replication.Api;
using RaftKv.Replication.Commands;

namespace RaftKv.Replication;

/// <summary>
/// etcd's simple tokens made known to every member (AUTH_TOKEN=simple; docs/architecture.md, "Authentication"): etcd's
/// Authenticate goes through Raft with the new token, so every member can check it — a client given several endpoints
/// (clientv3 balances its calls over all of them) uses one token everywhere. Here the member that checked the password
/// has the leader propose a <see cref="CommandKind.SimpleToken"/> entry carrying the token's SHA-256 (never the token),
/// the user and the auth revision of the check; each member's apply hands it to <see cref="SimpleTokenAssigned"/>, the
/// server's in-memory token table. Nothing is written to the store: a restart forgets the tokens, as in etcd.
/// </summary>
/// <remarks>
/// Proposed only when every voting member lists <see cref="FeatureSimpleTokenLog"/> (an older release refuses the kind
/// and stops); until then the server keeps the token on the issuing member only, as before. The assignment returns once
/// this member has applied the entry, so the client's next call here knows the token; another member knows it once it
/// applied the entry too (a lagging one answers "invalid auth token" for a moment, and etcd's clients authenticate again).
/// </remarks>
public sealed partial class KvNode
{
    /// <summary>The feature a member lists when it applies <see cref="CommandKind.SimpleToken"/> and serves
    /// <see cref="ServeSimpleTokenAsync"/>.</summary>
    internal const string FeatureSimpleTokenLog = "simple-token-log";

    /// <summary>Raised by this member's apply of each simple token that stands (the applier's thread: keep it short).</summary>
    public event Action<SimpleTokenGrant>? SimpleTokenAssigned;

    /// <summary>Whether simple tokens can go through the log: every voting member applies them.</summary>
    public bool SimpleTokensReplicated => EveryMemberSupports(FeatureSimpleTokenLog);

    /// <summary>
    /// Makes <paramref name="grant"/> known to every member: proposed here while this member leads, else sent to the
    /// leader (<see cref="KvNodeOptions.SimpleTokenPeers"/>) — again to the next one after a leader change, within the
    /// operation timeout; returns once this member applied it.
    /// </summary>
    /// <exception cref="AuthException"><see cref="AuthError.AuthOldRevision"/>: the user changed since its password was
    /// checked (check it again).</exception>
    /// <exception cref="UnavailableException">No leader took it in time.</exception>
    public async Task AssignSimpleTokenAsync(SimpleTokenGrant grant, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(grant);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, _stop.Token);
        timeout.CancelAfter(_options.OperationTimeout);
        try
        {
            while (true)
            {
                try
                {
                    if (IsLeader)
                    {
                        await ServeSimpleTokenAsync(grant, timeout.Token).ConfigureAwait(false);
                        return;
                    }

                    if (GetStatus().Leader is { } leader && _options.SimpleTokenPeers is { } peers)
                    {
                        var index = await peers.AssignSimpleTokenAsync(leader, grant, timeout.Token).ConfigureAwait(false);
                        await WaitForAppliedAsync(index, timeout.Token).ConfigureAwait(false);
                        return;
                    }
                }
                catch (Exception e) when (e is NotLeaderException or UnavailableException)
                {
                    // Leadership moved, or the outcome is unknown: assigning the same digest again is harmless.
                }

                await Task.Delay(NoLeaderPoll, _options.TimeProvider, timeout.Token).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw new UnavailableException("no leader assigned the token within the deadline");
        }
    }

    /// <summary>The leader's side (<c>Cluster/AssignSimpleToken</c>): proposes the grant and answers the entry's index once
    /// applied here.</summary>
    public async Task<long> ServeSimpleTokenAsync(SimpleTokenGrant grant, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(grant);
        if (grant.Digest.Length != 32 || grant.User.Length == 0)
        {
            throw new ArgumentException("a simple token grant needs a 32-byte digest and a user");
        }

        var command = new KvCommand(CommandKind.SimpleToken, NextTimestamp(), null, null, Revision: grant.Revision, Auth: new Auth.AuthChange(grant.User, Secret: grant.Digest));
        var result = await ProposeAsync(command, cancellationToken).ConfigureAwait(false);
        return result.Index;
    }
}
