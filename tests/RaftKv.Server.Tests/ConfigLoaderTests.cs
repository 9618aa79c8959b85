using RaftKv.Server.Configuration;

namespace RaftKv.Server.Tests;

public sealed class ConfigLoaderTests
{
    private static readonly Dictionary<string, string?> NoEnv = [];

    [Fact]
    public void NoArgumentsGiveTheEmbeddedSingleNodeDefaults()
    {
        var c = ConfigLoader.Load([], NoEnv);
        Assert.Equal(8080, c.HttpPort);
        Assert.Equal(50051, c.GrpcPort);
        Assert.Equal(7000, c.RaftPort);
        Assert.Equal("./data", c.DataDir);
        Assert.Empty(c.Peers);
        Assert.False(c.HasObjectStore);
        Assert.Equal(4096, c.MaxKeyBytes);
        Assert.Equal(8 << 20, c.MaxValueBytes);
        Assert.False(c.MembershipFromPeers);
        Assert.True(ConfigLoader.Load(["--membership", "peers"], NoEnv).MembershipFromPeers);
        Assert.Equal(TimeSpan.FromSeconds(30), ConfigLoader.Load([], NoEnv).ArchiveInterval);
        Assert.Equal(TimeSpan.FromMinutes(5), ConfigLoader.Load(["--archive-interval", "5m"], NoEnv).ArchiveInterval);
        Assert.Equal(RaftKv.Server.Security.Auth.AuthTokenKind.Jwt, ConfigLoader.Load([], NoEnv).Auth.TokenKind);
        Assert.Equal(RaftKv.Server.Security.Auth.AuthTokenKind.Simple, ConfigLoader.Load(["--auth-token", "simple"], NoEnv).Auth.TokenKind);
        Assert.False(c.MetricsHttpRequests);
        Assert.True(ConfigLoader.Load(["--metrics-http-requests", "on"], NoEnv).MetricsHttpRequests);
        Assert.False(c.ToNodeOptions().JoinExisting);
        Assert.True(ConfigLoader.Load(["--initial-cluster-state", "existing"], NoEnv).ToNodeOptions().JoinExisting);
    }

    [Fact]
    public void ElectionTimeoutSetsTheRaftTimeoutsSoACandidateOutlivesItsVoteRequests()
    {
        var defaults = ConfigLoader.Load([], NoEnv).ToNodeOptions();
        Assert.Equal((1000d, 2000d, 500d, 250d), (defaults.ElectionTimeoutLower.TotalMilliseconds, defaults.ElectionTimeoutUpper.TotalMilliseconds, defaults.RequestTimeout.TotalMilliseconds, defaults.ConnectTimeout.TotalMilliseconds));
        Assert.True(defaults.RequestTimeoutFitsElection);
        Assert.Equal(2, defaults.MinLeaseTtlSeconds); // etcd's at its default --election-timeout=1000

        var slow = ConfigLoader.Load([], new Dictionary<string, string?> { ["ELECTION_TIMEOUT_MS"] = "5000" }).ToNodeOptions();
        Assert.Equal((5000d, 10000d, 2500d), (slow.ElectionTimeoutLower.TotalMilliseconds, slow.ElectionTimeoutUpper.TotalMilliseconds, slow.RequestTimeout.TotalMilliseconds));
        Assert.True(slow.RequestTimeoutFitsElection);
        Assert.Equal(8, slow.MinLeaseTtlSeconds);
        Assert.True(ConfigLoader.Load(["--election-timeout-ms", "100"], NoEnv).ToNodeOptions().RequestTimeoutFitsElection);

        // A request timeout past the election timeout is the misconfiguration KvNode warns about.
        Assert.False((defaults with { RequestTimeout = TimeSpan.FromSeconds(1) }).RequestTimeoutFitsElection);

        foreach (var bad in new[] { "99", "50001", "-1", "1s", "1e3", "abc" })
        {
            var e = Assert.Throws<ConfigException>(() => ConfigLoader.Load([], new Dictionary<string, string?> { ["ELECTION_TIMEOUT_MS"] = bad }));
            Assert.Contains("ELECTION_TIMEOUT_MS", e.Message, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void MemoryMaxSizeIsSplitBetweenMemtableAndBlockCache()
    {
        var defaults = ConfigLoader.Load([], NoEnv);
        Assert.Equal((128L << 20, 64L << 20, 64L << 20), (defaults.MemoryMaxBytes, defaults.MemtableBytes, defaults.CacheBytes)); // the earlier 64 + 64
        var node = defaults.ToNodeOptions();
        Assert.Equal((64L << 20, 64L << 20), (node.MemtableMaxBytes, node.BlockCacheBytes));
        Assert.Equal((Storage.Tables.BlockCompression.None, Storage.Tables.BlockCompression.Lz4), (node.Compression, node.RemoteCompression));

        var sized = ConfigLoader.Load(["--memory-max-size-mb", "1024", "--cache-size-mb", "768", "--compression", "lz4", "--s3-compression", "none"], NoEnv).ToNodeOptions();
        Assert.Equal((256L << 20, 768L << 20), (sized.MemtableMaxBytes, sized.BlockCacheBytes));
        Assert.Equal((Storage.Tables.BlockCompression.Lz4, Storage.Tables.BlockCompression.None), (sized.Compression, sized.RemoteCompression));

        var noCache = ConfigLoader.Load(["--memory-max-size-mb", "64", "--cache-size-mb", "0"], NoEnv).ToNodeOptions();
        Assert.Equal((64L << 20, 0L), (noCache.MemtableMaxBytes, noCache.BlockCacheBytes));
        Assert.Equal(512L << 10, ConfigLoader.Load(["--memory-max-size-mb", "1"], NoEnv).ToNodeOptions().MemtableMaxBytes);
    }

    [Fact]
    public void FlagsBeatEnvironmentWhichBeatsTheFile()
    {
        var file = Path.Combine(Path.GetTempPath(), Guid.NewGuid().ToString("N") + ".toml");
        File.WriteAllText(file, "HTTP_PORT = 9001\nGRPC_PORT = 9002\nRAFT_PORT = 9003\nDATA_DIR = \"/from/file\"\n");
        try
        {
            var env = new Dictionary<string, string?> { ["GRPC_PORT"] = "9102", ["RAFT_PORT"] = "9103", ["CONFIG_FILE"] = file };
            var c = ConfigLoader.Load(["--raft-port", "9203"], env);
            Assert.Equal(9001, c.HttpPort);
            Assert.Equal(9102, c.GrpcPort);
            Assert.Equal(9203, c.RaftPort);
            Assert.Equal("/from/file", c.DataDir);
        }
        finally
        {
            File.Delete(file);
        }
    }

    [Fact]
    public void JsonFileIsAccepted()
    {
        var file = Path.Combine(Path.GetTempPath(), Guid.NewGuid().ToString("N") + ".json");
        File.WriteAllText(file, "{\"http_port\": 8181, \"PEERS\": \"1=a:7000,2=b:7000\", \"NODE_ID\": 2}");
        try
        {
            var c = ConfigLoader.Load(["--config", file], NoEnv);
            Assert.Equal(8181, c.HttpPort);
            Assert.Equal(2, c.Peers.Count);
            Assert.Equal("b", c.AdvertiseHost);
            Assert.Equal("b:7000", c.ToNodeOptions().RaftAdvertise);
        }
        finally
        {
            File.Delete(file);
        }
    }

    [Fact]
    public void QuotaBackendBytesHasADefaultCanBeSetOrTurnedOff()
    {
        Assert.Equal(8L << 30, ConfigLoader.Load([], NoEnv).ToNodeOptions().QuotaBackendBytes); // 0 = the default, 8 GiB
        Assert.Equal(20L << 30, ConfigLoader.Load([], new Dictionary<string, string?> { ["DISK_MAX_SIZE_GB"] = "10" }).ToNodeOptions().QuotaBackendBytes); // at least twice DISK_MAX_SIZE_GB
        Assert.Equal(1L << 20, ConfigLoader.Load(["--quota-backend-bytes", "1048576"], NoEnv).ToNodeOptions().QuotaBackendBytes);
        Assert.Equal(0, ConfigLoader.Load([], new Dictionary<string, string?> { ["QUOTA_BACKEND_BYTES"] = "-1" }).ToNodeOptions().QuotaBackendBytes); // negative = no quota
        var e = Assert.Throws<ConfigException>(() => ConfigLoader.Load([], new Dictionary<string, string?> { ["QUOTA_BACKEND_BYTES"] = "2GB" }));
        Assert.Contains("QUOTA_BACKEND_BYTES", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void CorsIsEtcdsAnyOriginByDefaultOrAListOrNone()
    {
        Assert.Equal(["*"], ConfigLoader.Load([], NoEnv).CorsOrigins);
        Assert.Equal(["*"], ConfigLoader.Load(["--cors", "http://a:1,*"], NoEnv).CorsOrigins);
        Assert.Empty(ConfigLoader.Load(["--cors", "none"], NoEnv).CorsOrigins);
        Assert.Equal(["http://a.example:8000", "https://b.example"], ConfigLoader.Load([], new Dictionary<string, string?> { ["CORS"] = "http://a.example:8000, https://b.example" }).CorsOrigins);
    }

    /// <summary>A boolean setting's flag may stand alone, as etcd's (<c>--learner --node-id 4</c> failed: "flag 4 needs a value").</summary>
    [Fact]
    public void ABooleanFlagMayStandAloneOrTakeTrueOrFalse()
    {
        var flags = ConfigLoader.ParseFlags(["--learner", "--node-id", "4", "--read-lease", "false", "--client-cert-auth=true", "--initial-corrupt-check"]);
        Assert.Equal("true", flags["LEARNER"]);
        Assert.Equal("4", flags["NODE_ID"]);
        Assert.Equal("false", flags["READ_LEASE"]);
        Assert.Equal("true", flags["CLIENT_CERT_AUTH"]);
        Assert.Equal("true", flags["INITIAL_CORRUPT_CHECK"]);
    }

    [Fact]
    public void HelpListsEveryFlagWithItsVariableAndDefault()
    {
        Assert.True(Usage.WantsHelp(["--help"]) && Usage.WantsHelp(["--node-id", "2", "-h"]) && Usage.WantsHelp(["help"]));
        Assert.False(Usage.WantsHelp(["--data-dir", "help"]));
        using var text = new StringWriter();
        Usage.Write(text);
        foreach (var key in ConfigKeys.All)
        {
            Assert.Contains($"{key.Flag} ({key.Env})", text.ToString(), StringComparison.Ordinal);
        }

        Assert.Contains("--http-port (HTTP_PORT), default 8080", text.ToString(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(new[] { "--cors", "a.example" }, "CORS must be *, none or origins")]
    [InlineData(new[] { "--cors", "http://a.example/path" }, "CORS must be")]
    [InlineData(new[] { "--cors", "ftp://a.example" }, "CORS must be")]
    [InlineData(new[] { "--http-port", "0" }, "HTTP_PORT")]
    [InlineData(new[] { "--http-port", "x" }, "HTTP_PORT")]
    [InlineData(new[] { "--bogus", "1" }, "unknown flag")]
    [InlineData(new[] { "--node-id" }, "needs a value")]
    [InlineData(new[] { "--node-id", "--http-port", "8081" }, "flag --node-id needs a value")]
    [InlineData(new[] { "--learner", "4" }, "unknown flag '4'")]
    [InlineData(new[] { "--help-me" }, "unknown flag '--help-me'")]
    [InlineData(new[] { "--peers", "1=a" }, "PEERS")]
    [InlineData(new[] { "--peers", "1=a:1,2=b:2", "--node-id", "3" }, "not listed in PEERS")]
    [InlineData(new[] { "--http-port", "7000" }, "must differ")]
    [InlineData(new[] { "--etcd-port", "50051" }, "must differ")]
    [InlineData(new[] { "--etcd-port", "70000" }, "ETCD_PORT")]
    [InlineData(new[] { "--s3-endpoint", "not a url" }, "S3_ENDPOINT")]
    [InlineData(new[] { "--memory-max-size-mb", "-1" }, "MEMORY_MAX_SIZE_MB")]
    [InlineData(new[] { "--config", "/no/such/file.toml" }, "does not exist")]
    [InlineData(new[] { "--memory-max-size-mb", "64", "--cache-size-mb", "64" }, "CACHE_SIZE_MB (64) must be less than MEMORY_MAX_SIZE_MB (64)")]
    [InlineData(new[] { "--cache-size-mb", "-1" }, "CACHE_SIZE_MB")]
    [InlineData(new[] { "--compression", "gzip" }, "COMPRESSION must be 'none', 'lz4' or 'zstd'")]
    [InlineData(new[] { "--s3-compression", "snappy" }, "S3_COMPRESSION must be")]
    [InlineData(new[] { "--archive-interval", "0" }, "ARCHIVE_INTERVAL must be greater than zero")]
    [InlineData(new[] { "--archive-interval", "soon" }, "ARCHIVE_INTERVAL must be a duration")]
    [InlineData(new[] { "--membership", "dynamic" }, "MEMBERSHIP must be")]
    [InlineData(new[] { "--auth-token", "jwt,pub-key=x" }, "AUTH_TOKEN must be")]
    [InlineData(new[] { "--metrics-http-requests", "true" }, "METRICS_HTTP_REQUESTS must be 'on' or 'off'")]
    [InlineData(new[] { "--initial-cluster-state", "join" }, "INITIAL_CLUSTER_STATE must be 'new' or 'existing'")]
    public void InvalidConfigurationIsAClearError(string[] args, string expected)
    {
        var e = Assert.Throws<ConfigException>(() => ConfigLoader.Load(args, NoEnv));
        Assert.Contains(expected, e.Message);
    }
}
