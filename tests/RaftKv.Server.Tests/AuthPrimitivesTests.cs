using System.Text;
using Google.Protobuf;
using Grpc.Core;
using RaftKv.Replication.Api;
using RaftKv.Server.Pipeline;
using RaftKv.Server.Security.Auth;
using V1 = RaftKv.Protocol.V1;
using V3 = RaftKv.Protocol.Etcd;

namespace RaftKv.Server.Tests;

/// <summary>Tokens, password hashes, the rate limiter, the access rules and the auth error tables, without a node.</summary>
public sealed class AuthPrimitivesTests
{
    private static readonly byte[] Key = Enumerable.Repeat((byte)42, 32).ToArray();

    private static ByteString Bs(string s) => ByteString.CopyFromUtf8(s);

    /// <summary>A request keeps the forward token it minted first; a Lock that waited asks for a fresh one for each
    /// later write (its cleanup may come after the first token expired or the auth revision moved).</summary>
    [Fact]
    public void AFreshForwardTokenIsMintedAgainAndThenKept()
    {
        var minted = 0;
        var principal = new AuthPrincipal("u", () => "t" + ++minted);
        Assert.Equal(("t1", "t1"), (principal.ForwardToken, principal.ForwardToken));
        Assert.Equal(("t2", "t2"), (principal.FreshForwardToken(), principal.ForwardToken));
    }

    [Fact]
    public void DashboardRoutesNeedWhatTheirDataNeeds()
    {
        var none = new Microsoft.AspNetCore.Http.QueryCollection();
        Assert.Equal(AuthAccess.Open, AuthRules.ForHttp("GET", "/ui/app.js", null, none, true)); // static files only
        Assert.Equal(AuthAccess.Open, AuthRules.ForHttp("GET", "/ui", null, none, true));
        Assert.Equal(AuthAccess.Admin, AuthRules.ForHttp("POST", "/ui/x", null, none, true));
        Assert.Equal(AuthAccess.Authenticated, AuthRules.ForHttp("GET", "/stats/load", null, none, true));
        Assert.Equal(AuthAccess.Authenticated, AuthRules.ForHttp("GET", "/cluster/overview", null, none, true));
        Assert.Equal(AuthAccess.Authenticated, AuthRules.ForHttp("GET", "/auth/whoami", null, none, true)); // any user asks what it may do
        Assert.Equal(AuthAccess.Admin, AuthRules.ForHttp("GET", "/admin/compact/progress", null, none, true)); // operation progress: root only
        Assert.Equal(AuthAccess.Admin, AuthRules.ForHttp("GET", "/admin/backup/progress", null, none, true));
        Assert.Equal(AuthAccess.Admin, AuthRules.ForHttp("GET", "/cluster/members", null, none, true)); // membership: root only
        Assert.Equal(AuthAccess.Admin, AuthRules.ForHttp("POST", "/cluster/members", null, none, true));
        Assert.Equal(AuthAccess.Admin, AuthRules.ForHttp("DELETE", "/cluster/members/3", null, none, true));
        var watch = AuthRules.ForHttp("GET", "/watch", null, new Microsoft.AspNetCore.Http.QueryCollection(new Dictionary<string, Microsoft.Extensions.Primitives.StringValues> { ["prefix"] = "a/" }), true);
        var k = Assert.Single(watch.Keys);
        Assert.Equal(("a/", "a0", false), (Encoding.UTF8.GetString(k.Key), Encoding.UTF8.GetString(k.RangeEnd), k.Write));
    }

    [Fact]
    public void ARefusedTokenSaysWhy()
    {
        // The refusal's debug log names the cause (a Go client's forwarded delete was refused 100 times in a row under a
        // loaded suite, logged only as "expired, malformed or not signed with the cluster's key").
        var time = new ManualTime(DateTimeOffset.UnixEpoch.AddYears(50));
        var tokens = new AuthTokens(time);
        var token = tokens.Issue(Key, "alice", 7, TimeSpan.FromSeconds(3));
        var other = Enumerable.Repeat((byte)1, 32).ToArray();
        Assert.StartsWith("a JWT signed with another key than this member's (key #", tokens.Diagnose(other, token), StringComparison.Ordinal);
        Assert.DoesNotContain(Convert.ToHexStringLower(other), tokens.Diagnose(other, token), StringComparison.Ordinal);
        Assert.Equal("not a JWT", tokens.Diagnose(Key, "simple-token-text"));
        Assert.Equal("a malformed JWT", tokens.Diagnose(Key, "a.b!.c"));
        Assert.Equal("no token key here yet", tokens.Diagnose([], token));
        time.Advance(TimeSpan.FromSeconds(10));
        Assert.StartsWith("a JWT expired ", tokens.Diagnose(Key, token), StringComparison.Ordinal);
        Assert.DoesNotContain(token, tokens.Diagnose(Key, token), StringComparison.Ordinal);
    }

    [Fact]
    public void TokensExpireAndRejectTampering()
    {
        var time = new ManualTime(DateTimeOffset.UnixEpoch.AddYears(50));
        var tokens = new AuthTokens(time);
        var token = tokens.Issue(Key, "alice", 7, TimeSpan.FromSeconds(300));
        Assert.Equal(("alice", 7L), tokens.Validate(Key, token));

        Assert.Null(tokens.Validate(Enumerable.Repeat((byte)1, 32).ToArray(), token)); // another cluster's key
        var parts = token.Split('.');
        var forged = Convert.ToBase64String(Encoding.UTF8.GetBytes("{\"username\":\"root\",\"revision\":7,\"iat\":0,\"exp\":9999999999}")).TrimEnd('=').Replace('+', '-').Replace('/', '_');
        Assert.Null(tokens.Validate(Key, $"{parts[0]}.{forged}.{parts[2]}")); // claims changed, signature kept
        Assert.Null(tokens.Validate(Key, "not-a-token"));
        Assert.Null(tokens.Validate(Key, "a.b.c"));
        Assert.Null(tokens.Validate(Key, token + "x"));
        Assert.Null(tokens.Validate([], token)); // auth never enabled: no key

        var member = tokens.IssueNode(Key, 3, TimeSpan.FromSeconds(60));
        Assert.Equal((string.Empty, 0L, 3L), tokens.ValidateAny(Key, member));
        Assert.Null(tokens.Validate(Key, member)); // never a user's token
        Assert.Equal(("alice", 7L, 0L), tokens.ValidateAny(Key, token));

        time.Advance(TimeSpan.FromSeconds(299));
        Assert.NotNull(tokens.Validate(Key, token));
        time.Advance(TimeSpan.FromSeconds(1));
        Assert.Null(tokens.Validate(Key, token)); // expired

        // Issued late in a second, a token still lives its whole ttl (exp is whole seconds, rounded up).
        time.Advance(TimeSpan.FromMilliseconds(900));
        var late = tokens.Issue(Key, "alice", 7, TimeSpan.FromSeconds(3));
        time.Advance(TimeSpan.FromMilliseconds(2999));
        Assert.NotNull(tokens.Validate(Key, late));
        time.Advance(TimeSpan.FromMilliseconds(101));
        Assert.Null(tokens.Validate(Key, late));
    }

    [Fact]
    public void PasswordHashesAreSaltedArgon2idWithTheirParameters()
    {
        var hasher = new PasswordHasher(memoryKiB: 1024, iterations: 1);
        var a = hasher.Hash("s3cret");
        var b = hasher.Hash("s3cret");
        Assert.NotEqual(a, b); // a random salt per hash
        Assert.Equal(PasswordHasher.Argon2idV13, a[0]);
        Assert.Equal(1024, BitConverter.ToInt32(a, 1));
        Assert.True(PasswordHasher.Verify("s3cret", a));
        Assert.False(PasswordHasher.Verify("s3cret!", a));
        Assert.False(PasswordHasher.Verify("s3cret", null));
        Assert.False(PasswordHasher.Verify("s3cret", [9, 9, 9]));
        Assert.DoesNotContain(Encoding.UTF8.GetBytes("s3cret"), new[] { a }.SelectMany(x => Windows(x, 6)), new BytesComparer());
    }

    [Fact]
    public void RateLimiterBlocksPerUserAndPerAddressWithinItsWindow()
    {
        var time = new ManualTime(DateTimeOffset.UnixEpoch);
        var limiter = new AuthRateLimiter(AuthOptions.Default with { MaxFailuresPerUser = 3, MaxFailuresPerAddress = 5 }, time);
        for (var i = 0; i < 3; i++)
        {
            Assert.False(limiter.IsBlocked("alice", "10.0.0.1"));
            limiter.RecordFailure("alice", "10.0.0.1");
        }

        Assert.True(limiter.IsBlocked("alice", "10.0.0.9")); // per user, whatever the address
        Assert.False(limiter.IsBlocked("bob", "10.0.0.2"));
        limiter.RecordFailure("bob", "10.0.0.1");
        limiter.RecordFailure("carol", "10.0.0.1");
        Assert.True(limiter.IsBlocked("dave", "10.0.0.1")); // per address, whatever the user
        time.Advance(TimeSpan.FromMinutes(1));
        Assert.False(limiter.IsBlocked("alice", "10.0.0.1")); // the failures left the window
    }

    [Fact]
    public void EveryKeyARequestTouchesIsChecked()
    {
        var txn = new V3.TxnRequest();
        txn.Compare.Add(new V3.Compare { Key = Bs("outside"), Target = V3.Compare.Types.CompareTarget.Value });
        txn.Success.Add(new V3.RequestOp { RequestPut = new V3.PutRequest { Key = Bs("a/1"), PrevKv = true } });
        txn.Failure.Add(new V3.RequestOp { RequestTxn = new V3.TxnRequest { Success = { new V3.RequestOp { RequestDeleteRange = new V3.DeleteRangeRequest { Key = Bs("a/"), RangeEnd = Bs("a0") } } } } });
        var access = AuthRules.ForGrpc(txn);
        Assert.Equal(AuthAccessKind.Keys, access.Kind);
        Assert.Equal(["outside:r", "a/1:w", "a/1:r", "a/-a0:w"], access.Keys.Select(k => Encoding.UTF8.GetString(k.Key) + (k.RangeEnd.Length > 0 ? "-" + Encoding.UTF8.GetString(k.RangeEnd) : "") + (k.Write ? ":w" : ":r")));

        // Native range: the continuation is where the scan starts.
        var range = AuthRules.ForGrpc(new V1.RangeRequest { Start = Bs("a/"), Prefix = true, Continuation = Bs("0") });
        Assert.Equal("0", Encoding.UTF8.GetString(range.Keys[0].Key));
        Assert.Equal(AuthAccessKind.Admin, AuthRules.ForGrpc(new V3.MemberAddRequest()).Kind);
        Assert.Equal(AuthAccessKind.Admin, AuthRules.ForGrpc(new V3.AuthUserAddRequest()).Kind);
        Assert.Equal(AuthAccessKind.Authenticated, AuthRules.ForGrpc(new V3.CompactionRequest { Revision = 5 }).Kind); // as etcd 3.4
        Assert.Equal(AuthAccessKind.Authenticated, AuthRules.ForGrpc(new V3.AlarmRequest { Action = V3.AlarmRequest.Types.AlarmAction.Get }).Kind);
        Assert.Equal(AuthAccessKind.Admin, AuthRules.ForGrpc(new V3.AlarmRequest { Action = V3.AlarmRequest.Types.AlarmAction.Deactivate }).Kind);
        Assert.Equal(AuthAccessKind.Admin, AuthRules.ForGrpc(new V3.DefragmentRequest()).Kind);
        Assert.Equal(AuthAccessKind.Open, AuthRules.ForGrpc(new V3.AuthenticateRequest()).Kind);
        Assert.Equal(AuthAccessKind.LeaseKeys, AuthRules.ForGrpc(new V3.LeaseRevokeRequest { ID = 5 }).Kind);
    }

    [Fact]
    public void AuthErrorsUseEtcdsStringsAndHttpStatuses()
    {
        Assert.Equal("etcdserver: permission denied", GrpcErrors.Map(new AuthException(AuthError.PermissionDenied, "permission denied"), "/etcdserverpb.KV/Range").Status.Detail);
        Assert.Equal(StatusCode.Unauthenticated, GrpcErrors.Map(new AuthException(AuthError.InvalidToken, "invalid auth token"), "/etcdserverpb.KV/Range").StatusCode);
        Assert.Equal("etcdserver: authentication failed, invalid user ID or password", GrpcErrors.Map(new AuthException(AuthError.AuthFailed, "x"), "/etcdserverpb.Auth/Authenticate").Status.Detail);
        Assert.Equal("etcdserver: user name already exists", GrpcErrors.Map(new AuthException(AuthError.UserAlreadyExists, "x"), "/etcdserverpb.Auth/UserAdd").Status.Detail);
        Assert.Equal(StatusCode.Unauthenticated, GrpcErrors.Map(new AuthException(AuthError.Unauthenticated, "x"), "/raftkv.v1.KV/Get").StatusCode);
        Assert.Equal(StatusCode.PermissionDenied, GrpcErrors.Map(new AuthException(AuthError.PermissionDenied, "x"), "/raftkv.v1.KV/Get").StatusCode);
        Assert.Equal(401, ApiError.Map(new AuthException(AuthError.InvalidToken, "x")).Status);
        Assert.Equal(403, ApiError.Map(new AuthException(AuthError.PermissionDenied, "x")).Status);
        Assert.Equal(429, ApiError.Map(new AuthException(AuthError.TooManyRequests, "x")).Status);
    }

    private static IEnumerable<byte[]> Windows(byte[] data, int size)
    {
        for (var i = 0; i + size <= data.Length; i++)
        {
            yield return data[i..(i + size)];
        }
    }

    private sealed class BytesComparer : IEqualityComparer<byte[]>
    {
        public bool Equals(byte[]? x, byte[]? y) => x.AsSpan().SequenceEqual(y);

        public int GetHashCode(byte[] obj) => obj.Length;
    }
}
