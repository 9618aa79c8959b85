using System.Text;
using System.Text.RegularExpressions;
using RaftKv.Server.Security.Auth;

namespace RaftKv.Server.Tests;

/// <summary>etcd's simple tokens (AUTH_TOKEN=simple), the verified-JWT memory, and etcd's pre-hashed (bcrypt)
/// passwords, without a node (the process tests cover them end to end).</summary>
public sealed class SimpleTokensAndBcryptTests
{
    private static readonly byte[] Key = Enumerable.Repeat((byte)7, 32).ToArray();

    /// <summary>A token another member issued arrives as its digest (the log's SimpleToken entry) and is then usable by
    /// its text; a JWT-length string is never looked up.</summary>
    [Fact]
    public void AHeldDigestMakesItsTokenUsable()
    {
        var time = new ManualTime(DateTimeOffset.UnixEpoch.AddYears(50));
        using var tokens = new SimpleTokens(time, () => true);
        var token = SimpleTokens.NewToken(5);
        Assert.Null(tokens.Use(token));
        tokens.Hold(SimpleTokens.Digest(token), "bob", 5, TimeSpan.FromSeconds(10));
        Assert.Equal(("bob", 5L), tokens.Use(token));
        time.Advance(TimeSpan.FromSeconds(11));
        Assert.Null(tokens.Use(token)); // its TTL since the last use
        Assert.Null(tokens.Use(new string('a', 65)));
    }

    [Fact]
    public void SimpleTokensAreEtcdShapedAndLiveTheirTtlSinceLastUse()
    {
        var time = new ManualTime(DateTimeOffset.UnixEpoch.AddYears(50));
        using var tokens = new SimpleTokens(time, () => true);
        var ttl = TimeSpan.FromSeconds(300);
        var token = tokens.Issue("alice", 12, ttl);
        Assert.Matches(new Regex("^[a-zA-Z]{16}\\.12$"), token);
        Assert.NotEqual(token, tokens.Issue("alice", 12, ttl)); // random: one per Authenticate
        Assert.Equal(("alice", 12L), tokens.Use(token));
        Assert.Null(tokens.Use("abcdefghijklmnop.12"));
        Assert.Null(tokens.Use(token + "x"));

        // Each use refreshes the TTL (etcd's TTL keeper): 3 x 200 s of use outlive the 300 s TTL.
        for (var i = 0; i < 3; i++)
        {
            time.Advance(TimeSpan.FromSeconds(200));
            Assert.Equal(("alice", 12L), tokens.Use(token));
        }

        time.Advance(ttl); // idle for a whole TTL
        Assert.Null(tokens.Use(token));

        var other = tokens.Issue("bob", 13, ttl);
        tokens.Drop(other);
        Assert.Null(tokens.Use(other));
    }

    [Fact]
    public void SweepDropsExpiredTokensAndAllOfThemWhileAuthIsDisabled()
    {
        var time = new ManualTime(DateTimeOffset.UnixEpoch.AddYears(50));
        var enabled = true;
        using var tokens = new SimpleTokens(time, () => enabled);
        var old = tokens.Issue("alice", 1, TimeSpan.FromSeconds(10));
        time.Advance(TimeSpan.FromSeconds(5));
        var fresh = tokens.Issue("alice", 1, TimeSpan.FromSeconds(10));
        time.Advance(TimeSpan.FromSeconds(6));
        tokens.Sweep();
        Assert.Equal(1, tokens.Count);
        Assert.NotNull(tokens.Use(fresh));
        Assert.Null(tokens.Use(old));

        enabled = false; // etcd drops every simple token on AuthDisable
        tokens.Sweep();
        Assert.Equal(0, tokens.Count);
    }

    [Fact]
    public void RememberedJwtsStillExpireAndNeedTheSameKey()
    {
        var time = new ManualTime(DateTimeOffset.UnixEpoch.AddYears(50));
        var tokens = new AuthTokens(time);
        var token = tokens.Issue(Key, "alice", 3, TimeSpan.FromSeconds(60));
        Assert.Equal(("alice", 3L), tokens.Validate(Key, token)); // verified, remembered
        Assert.Equal(("alice", 3L), tokens.Validate(Key, token)); // from memory
        Assert.Null(tokens.Validate(Enumerable.Repeat((byte)8, 32).ToArray(), token)); // remembered under another key only
        Assert.Equal(("alice", 3L), tokens.Validate(Key.ToArray(), token)); // an equal key (a reloaded state) still matches
        time.Advance(TimeSpan.FromSeconds(60));
        Assert.Null(tokens.Validate(Key, token));
        Assert.Null(tokens.Validate(Key, token));
    }

    [Fact]
    public void BcryptHashesAreAcceptedAsTextOrBase64AndVerified()
    {
        var hash = BCrypt.Net.BCrypt.HashPassword("s3cret-Pw", workFactor: 4);
        foreach (var given in new[] { hash, Convert.ToBase64String(Encoding.ASCII.GetBytes(hash)) })
        {
            var record = PasswordHasher.FromBcrypt(given);
            Assert.Equal(PasswordHasher.Bcrypt, PasswordHasher.SchemeOf(record));
            Assert.True(PasswordHasher.Verify("s3cret-Pw", record));
            Assert.False(PasswordHasher.Verify("s3cret-pw", record));
            Assert.False(PasswordHasher.Verify(string.Empty, record));
        }

        Assert.Equal(PasswordHasher.Argon2idV13, PasswordHasher.SchemeOf(new PasswordHasher(memoryKiB: 64, iterations: 1).Hash("x")));
        Assert.Equal(0, PasswordHasher.SchemeOf(null)); // a no-password user
        Assert.False(PasswordHasher.Verify("x", [PasswordHasher.Bcrypt, (byte)'$', (byte)'2'])); // unreadable: never matches
    }

    [Theory]
    [InlineData("")]
    [InlineData("plain-password")]
    [InlineData("$2a$10$tooShort")]
    [InlineData("$1$abcdefgh$abcdefghijklmnopqrstuv")] // md5-crypt
    [InlineData("$2a$31$abcdefghijklmnopqrstuuabcdefghijklmnopqrstuvwxyz01234")] // cost above 16
    [InlineData("$2a$03$abcdefghijklmnopqrstuuabcdefghijklmnopqrstuvwxyz01234")] // cost below 4
    public void AnythingButABcryptHashIsRefused(string hashed)
        => Assert.Throws<ArgumentException>(() => PasswordHasher.FromBcrypt(hashed));
}
