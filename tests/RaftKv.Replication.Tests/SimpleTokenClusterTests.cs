using System.Collections.Concurrent;
using System.Security.Cryptography;
using RaftKv.Replication.Api;
using RaftKv.Replication.Auth;
using RaftKv.Replication.Commands;

namespace RaftKv.Replication.Tests;

/// <summary>Simple tokens through the log (KvNode.SimpleTokens.cs): assigned from a follower, every member's apply
/// raises the grant — the issuing member's before the call returns — and a grant checked against an older auth
/// revision than its user's, or made while auth is off, stands nowhere.</summary>
[Collection("cluster")]
public sealed class SimpleTokenClusterTests
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task AFollowersTokenIsKnownEverywhereAndAStaleOneNowhere()
    {
        await using var c = await TestCluster.StartAsync(3);
        var seen = new ConcurrentDictionary<long, ConcurrentBag<SimpleTokenGrant>>();
        foreach (var n in c.Running)
        {
            var bag = seen.GetOrAdd(n.NodeId, _ => []);
            n.SimpleTokenAssigned += bag.Add;
        }

        var leader = await c.WaitForLeaderAsync();
        await Eventually.TrueAsync(() => c.Running.All(n => n.SimpleTokensReplicated), Deadline, "every member lists the simple-token-log feature");
        var follower = c.Running.First(n => n != leader);
        var early = new SimpleTokenGrant(SHA256.HashData("early"u8), "alice", 0);
        var refused = await Assert.ThrowsAsync<AuthException>(() => follower.AssignSimpleTokenAsync(early, CancellationToken.None));
        Assert.Equal(AuthError.AuthOldRevision, refused.Error); // auth is off: no token stands

        await Change(c, CommandKind.UserAdd, new AuthChange("root", Secret: [1, 2, 3]));
        await Change(c, CommandKind.UserGrantRole, new AuthChange("root", AuthUser.RootRole));
        await Change(c, CommandKind.UserAdd, new AuthChange("alice", Secret: [4, 5, 6]));
        await Change(c, CommandKind.AuthEnable, new AuthChange(Secret: Enumerable.Repeat((byte)7, 32).ToArray()));
        await Eventually.TrueAsync(() => follower.Auth.Enabled, Deadline, "the follower applied the auth changes");

        var checkedAt = follower.Auth.Revision;
        var grant = new SimpleTokenGrant(SHA256.HashData("token-1"u8), "alice", checkedAt);
        await follower.AssignSimpleTokenAsync(grant, CancellationToken.None);
        Assert.Contains(seen[follower.NodeId], g => g.Digest.AsSpan().SequenceEqual(grant.Digest) && g.User == "alice" && g.Revision == checkedAt);
        foreach (var n in c.Running)
        {
            await Eventually.TrueAsync(() => seen[n.NodeId].Any(g => g.Digest.AsSpan().SequenceEqual(grant.Digest)), Deadline, $"node {n.NodeId} applied the token");
        }

        // alice's password changes after the check: a token checked at the older revision is refused on every member.
        await Change(c, CommandKind.UserChangePassword, new AuthChange("alice", Secret: [7, 7, 7]));
        var stale = new SimpleTokenGrant(SHA256.HashData("token-2"u8), "alice", checkedAt);
        refused = await Assert.ThrowsAsync<AuthException>(() => follower.AssignSimpleTokenAsync(stale, CancellationToken.None));
        Assert.Equal(AuthError.AuthOldRevision, refused.Error);
        var marker = new SimpleTokenGrant(SHA256.HashData("token-3"u8), "alice", (await c.WaitForLeaderAsync()).Auth.Revision);
        await (await c.WaitForLeaderAsync()).AssignSimpleTokenAsync(marker, CancellationToken.None);
        foreach (var n in c.Running)
        {
            await Eventually.TrueAsync(() => seen[n.NodeId].Any(g => g.Digest.AsSpan().SequenceEqual(marker.Digest)), Deadline, $"node {n.NodeId} applied the later token");
            Assert.DoesNotContain(seen[n.NodeId], g => g.Digest.AsSpan().SequenceEqual(stale.Digest) || g.Digest.AsSpan().SequenceEqual(early.Digest));
        }
    }

    private static async Task Change(TestCluster c, CommandKind kind, AuthChange change)
        => await c.OnLeaderAsync(l => l.ChangeAuthAsync(kind, change));
}
