using System.Globalization;
using System.Text.Json;
using RaftKv.Replication;
using Tomlyn;
using Tomlyn.Model;

namespace RaftKv.Server.Configuration;

/// <summary>
/// Builds <see cref="ServerConfig"/> from command-line flags, environment variables and an
/// optional JSON/TOML file (keys = the environment variable names, case-insensitive), in that
/// order of precedence, then validates it. Every problem is a <see cref="ConfigException"/>.
/// </summary>
public static class ConfigLoader
{
    public static ServerConfig Load(string[] args, IReadOnlyDictionary<string, string?> environment)
    {
        var flags = ParseFlags(args);
        string? Raw(ConfigKey key, IReadOnlyDictionary<string, string>? file)
        {
            if (flags.TryGetValue(key.Env, out var f))
            {
                return f;
            }

            if (environment.TryGetValue(key.Env, out var e) && !string.IsNullOrEmpty(e))
            {
                return e;
            }

            return file is not null && file.TryGetValue(key.Env, out var v) ? v : null;
        }

        var fileValues = Raw(ConfigKeys.ConfigFile, null) is { Length: > 0 } path ? ReadFile(path) : null;
        string Get(ConfigKey key) => Raw(key, fileValues) ?? key.Default;

        var peersText = Get(ConfigKeys.Peers);
        IReadOnlyDictionary<long, string> peers;
        try
        {
            peers = KvNodeOptions.ParsePeers(peersText);
        }
        catch (FormatException e)
        {
            throw new ConfigException(e.Message);
        }

        var nodeId = Long(ConfigKeys.NodeId, Get(ConfigKeys.NodeId), 1);
        var advertise = Get(ConfigKeys.AdvertiseHost);
        if (advertise.Length == 0)
        {
            advertise = peers.TryGetValue(nodeId, out var self) ? self[..self.LastIndexOf(':')] : "127.0.0.1";
        }

        if (peers.Count > 0 && !peers.ContainsKey(nodeId))
        {
            throw new ConfigException($"NODE_ID {nodeId} is not listed in PEERS ({peersText})");
        }

        var memoryBytes = Long(ConfigKeys.MemoryMaxSizeMb, Get(ConfigKeys.MemoryMaxSizeMb), 1) << 20;
        var cacheText = Get(ConfigKeys.CacheSizeMb);
        var cacheBytes = cacheText.Length == 0 ? memoryBytes / 2 : Long(ConfigKeys.CacheSizeMb, cacheText, 0) << 20;
        if (cacheBytes >= memoryBytes)
        {
            throw new ConfigException($"CACHE_SIZE_MB ({cacheBytes >> 20}) must be less than MEMORY_MAX_SIZE_MB ({memoryBytes >> 20}): the rest is the memtable");
        }

        var config = new ServerConfig
        {
            HttpPort = Port(ConfigKeys.HttpPort, Get(ConfigKeys.HttpPort)),
            GrpcPort = Port(ConfigKeys.GrpcPort, Get(ConfigKeys.GrpcPort)),
            EtcdPort = Get(ConfigKeys.EtcdPort) is "0" or "" ? 0 : Port(ConfigKeys.EtcdPort, Get(ConfigKeys.EtcdPort)),
            RaftPort = Port(ConfigKeys.RaftPort, Get(ConfigKeys.RaftPort)),
            NodeId = nodeId,
            Peers = peers,
            DataDir = Get(ConfigKeys.DataDir),
            MembershipFromPeers = Get(ConfigKeys.Membership) switch
            {
                "persisted" => false,
                "peers" => true,
                var other => throw new ConfigException($"MEMBERSHIP must be 'persisted' or 'peers', got '{other}'"),
            },
            BindHost = Get(ConfigKeys.BindHost),
            AdvertiseHost = advertise,
            MemoryMaxBytes = memoryBytes,
            CacheBytes = cacheBytes,
            Compression = Codec(ConfigKeys.Compression, Get(ConfigKeys.Compression)),
            S3Compression = Codec(ConfigKeys.S3Compression, Get(ConfigKeys.S3Compression)),
            ValueFileMinBytes = Long(ConfigKeys.ValueFileMinBytes, Get(ConfigKeys.ValueFileMinBytes), 0) is var vf and <= 1 << 30
                ? (int)vf
                : throw new ConfigException($"{ConfigKeys.ValueFileMinBytes.Env} must be at most {1 << 30} (1 GiB), got '{Get(ConfigKeys.ValueFileMinBytes)}'"),
            HistoryValueFileMinBytes = Long(ConfigKeys.HistoryValueFileMinBytes, Get(ConfigKeys.HistoryValueFileMinBytes), 0) is var hvf and <= 1 << 30
                ? (int)hvf
                : throw new ConfigException($"{ConfigKeys.HistoryValueFileMinBytes.Env} must be at most {1 << 30} (1 GiB), got '{Get(ConfigKeys.HistoryValueFileMinBytes)}'"),
            SnapshotPullAboveBytes = Long(ConfigKeys.SnapshotPullAboveBytes, Get(ConfigKeys.SnapshotPullAboveBytes), 0),
            SnapshotCatchupEntries = Long(ConfigKeys.SnapshotCatchupEntries, Get(ConfigKeys.SnapshotCatchupEntries), 0) is var catchup and <= int.MaxValue
                ? (int)catchup
                : throw new ConfigException($"{ConfigKeys.SnapshotCatchupEntries.Env} must be at most {int.MaxValue}, got '{Get(ConfigKeys.SnapshotCatchupEntries)}'"),
            MemoryMaxEntries = Long(ConfigKeys.MemoryMaxEntries, Get(ConfigKeys.MemoryMaxEntries), 1),
            DiskMaxSizeGb = Double(ConfigKeys.DiskMaxSizeGb, Get(ConfigKeys.DiskMaxSizeGb)),
            DiskMigrationAgeHours = Double(ConfigKeys.DiskMigrationAgeHours, Get(ConfigKeys.DiskMigrationAgeHours)),
            ArchiveInterval = Positive(ConfigKeys.ArchiveInterval, Durations.Parse(ConfigKeys.ArchiveInterval, Get(ConfigKeys.ArchiveInterval))),
            QuotaBackendBytes = long.TryParse(Get(ConfigKeys.QuotaBackendBytes), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var quota)
                ? quota
                : throw new ConfigException($"QUOTA_BACKEND_BYTES must be an integer (0 = default, negative = no quota), got '{Get(ConfigKeys.QuotaBackendBytes)}'"),
            S3Endpoint = Get(ConfigKeys.S3Endpoint),
            S3Bucket = Get(ConfigKeys.S3Bucket),
            S3Prefix = ObjectKeyPrefix(ConfigKeys.S3Prefix, Get(ConfigKeys.S3Prefix)),
            S3Region = Get(ConfigKeys.S3Region),
            S3AccessKey = Get(ConfigKeys.S3AccessKey),
            S3SecretKey = Get(ConfigKeys.S3SecretKey),
            MaxKeyBytes = (int)Long(ConfigKeys.MaxKeyBytes, Get(ConfigKeys.MaxKeyBytes), 1),
            MaxValueBytes = (int)Long(ConfigKeys.MaxValueBytes, Get(ConfigKeys.MaxValueBytes), 1),
            RaftLog = Get(ConfigKeys.RaftLog) switch
            {
                "raftkv" => RaftLogEngine.RaftKv,
                "dotnext" => RaftLogEngine.DotNext,
                var other => throw new ConfigException($"RAFT_LOG must be 'raftkv' or 'dotnext', got '{other}'"),
            },
            RaftLogPreallocate = Bool(ConfigKeys.RaftLogPreallocate, Get(ConfigKeys.RaftLogPreallocate)),
            ElectionTimeout = TimeSpan.FromMilliseconds(Range(ConfigKeys.ElectionTimeoutMs, Get(ConfigKeys.ElectionTimeoutMs), 100, 50_000)),
            CorruptCheckInterval = TimeSpan.FromSeconds(Long(ConfigKeys.CorruptCheckInterval, Get(ConfigKeys.CorruptCheckInterval), 0)),
            InitialCorruptCheck = Bool(ConfigKeys.InitialCorruptCheck, Get(ConfigKeys.InitialCorruptCheck)),
            ReadLease = Bool(ConfigKeys.ReadLease, Get(ConfigKeys.ReadLease)),
            MetricsHttpRequests = Get(ConfigKeys.MetricsHttpRequests) switch
            {
                "on" => true,
                "off" => false,
                var other => throw new ConfigException($"METRICS_HTTP_REQUESTS must be 'on' or 'off', got '{other}'"),
            },
            JoinExisting = Get(ConfigKeys.InitialClusterState) switch
            {
                "new" => false,
                "existing" => true,
                var other => throw new ConfigException($"INITIAL_CLUSTER_STATE must be 'new' or 'existing', got '{other}'"),
            },
            Learner = Bool(ConfigKeys.Learner, Get(ConfigKeys.Learner)),
            MaxLearners = (int)Long(ConfigKeys.MaxLearners, Get(ConfigKeys.MaxLearners), 0),
            Tls = TlsFiles.From(Get),
            CorsOrigins = CorsOrigins(Get(ConfigKeys.Cors)),
            WatchProgressNotifyInterval = Positive(ConfigKeys.WatchProgressNotifyInterval, Durations.Parse(ConfigKeys.WatchProgressNotifyInterval, Get(ConfigKeys.WatchProgressNotifyInterval))),
            AutoCompaction = AutoCompaction.Parse(Get(ConfigKeys.AutoCompactionMode), Get(ConfigKeys.AutoCompactionRetention)),
            Auth = Security.Auth.AuthOptions.Default with
            {
                TokenKind = Get(ConfigKeys.AuthToken) switch
                {
                    "jwt" => Security.Auth.AuthTokenKind.Jwt,
                    "simple" => Security.Auth.AuthTokenKind.Simple,
                    var other => throw new ConfigException($"AUTH_TOKEN must be 'jwt' or 'simple', got '{other}'"),
                },
                TokenTtl = TimeSpan.FromSeconds(Long(ConfigKeys.AuthTokenTtl, Get(ConfigKeys.AuthTokenTtl), 1)),
                OpenMetrics = Get(ConfigKeys.AuthMetrics) switch
                {
                    "open" => true,
                    "root" => false,
                    var other => throw new ConfigException($"AUTH_METRICS must be 'open' or 'root', got '{other}'"),
                },
                LearnerToken = Get(ConfigKeys.LearnerToken) is { Length: > 0 and < 16 } ? throw new ConfigException("LEARNER_TOKEN must be at least 16 characters (or empty)") : Get(ConfigKeys.LearnerToken),
                MaxFailuresPerUser = (int)Long(ConfigKeys.AuthMaxFailures, Get(ConfigKeys.AuthMaxFailures), 1),
                MaxFailuresPerAddress = 4 * (int)Long(ConfigKeys.AuthMaxFailures, Get(ConfigKeys.AuthMaxFailures), 1),
            },
        };

        config = config with { Backup = BackupSettings.Parse(Get(ConfigKeys.BackupInterval), Get(ConfigKeys.BackupRetention), Get(ConfigKeys.BackupBucket), Get(ConfigKeys.BackupPrefix), config) };

        if (config.HasObjectStore && !Uri.TryCreate(config.S3Endpoint, UriKind.Absolute, out _))
        {
            throw new ConfigException($"S3_ENDPOINT '{config.S3Endpoint}' is not an absolute URL");
        }

        var ports = new[] { config.HttpPort, config.GrpcPort, config.RaftPort, config.EtcdPort }.Where(p => p > 0).ToArray();
        if (ports.Distinct().Count() != ports.Length)
        {
            throw new ConfigException($"HTTP_PORT, GRPC_PORT, RAFT_PORT and ETCD_PORT (when set) must differ ({string.Join(", ", ports)})");
        }

        return config;
    }

    /// <summary>"--http-port 8081" or "--http-port=8081" → HTTP_PORT. A boolean setting's flag may stand alone
    /// ("--learner" = true; "--learner false" and "--learner=false" also work). Unknown flags are errors (<c>--help</c>
    /// lists them: <see cref="Usage"/>).</summary>
    public static Dictionary<string, string> ParseFlags(string[] args)
    {
        var byFlag = ConfigKeys.All.ToDictionary(k => k.Flag, StringComparer.Ordinal);
        byFlag["--config"] = ConfigKeys.ConfigFile;
        var result = new Dictionary<string, string>(StringComparer.Ordinal);
        for (var i = 0; i < args.Length; i++)
        {
            var arg = args[i];
            var eq = arg.IndexOf('=', StringComparison.Ordinal);
            var flag = eq > 0 ? arg[..eq] : arg;
            if (!byFlag.TryGetValue(flag, out var key))
            {
                throw new ConfigException($"unknown flag '{flag}' (raftkv --help lists the flags)");
            }

            string value;
            if (eq > 0)
            {
                value = arg[(eq + 1)..];
            }
            else if (key.IsBoolean)
            {
                value = i + 1 < args.Length && bool.TryParse(args[i + 1], out _) ? args[++i] : "true";
            }
            else if (i + 1 < args.Length && !args[i + 1].StartsWith("--", StringComparison.Ordinal))
            {
                value = args[++i];
            }
            else
            {
                throw new ConfigException($"flag {arg} needs a value");
            }

            result[key.Env] = value;
        }

        return result;
    }

    private static Dictionary<string, string> ReadFile(string path)
    {
        if (!File.Exists(path))
        {
            throw new ConfigException($"config file '{path}' does not exist");
        }

        var text = File.ReadAllText(path);
        var values = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        try
        {
            if (path.EndsWith(".toml", StringComparison.OrdinalIgnoreCase))
            {
                foreach (var (k, v) in TomlSerializer.Deserialize<TomlTable>(text, new TomlSerializerOptions())!)
                {
                    values[k] = Convert.ToString(v is TomlArray a ? string.Join(',', a) : v, CultureInfo.InvariantCulture) ?? string.Empty;
                }
            }
            else
            {
                using var doc = JsonDocument.Parse(text);
                foreach (var p in doc.RootElement.EnumerateObject())
                {
                    values[p.Name] = p.Value.ValueKind == JsonValueKind.String ? p.Value.GetString()! : p.Value.GetRawText();
                }
            }
        }
        catch (Exception e) when (e is JsonException or TomlException or InvalidOperationException)
        {
            throw new ConfigException($"config file '{path}' is not valid: {e.Message}");
        }

        var known = ConfigKeys.All.Select(k => k.Env).ToHashSet(StringComparer.OrdinalIgnoreCase);
        foreach (var k in values.Keys.Where(k => !known.Contains(k)))
        {
            throw new ConfigException($"config file '{path}' has an unknown key '{k}'");
        }

        return values.ToDictionary(kv => kv.Key.ToUpperInvariant(), kv => kv.Value, StringComparer.Ordinal);
    }

    private static int Port(ConfigKey key, string value)
        => int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var p) && p is > 0 and <= 65535
            ? p
            : throw new ConfigException($"{key.Env} must be a port number (1-65535), got '{value}'");

    private static long Long(ConfigKey key, string value, long min)
        => long.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var v) && v >= min
            ? v
            : throw new ConfigException($"{key.Env} must be an integer ≥ {min}, got '{value}'");

    private static bool Bool(ConfigKey key, string value) => value switch
    {
        "true" => true,
        "false" => false,
        _ => throw new ConfigException($"{key.Env} must be 'true' or 'false', got '{value}'"),
    };

    private static long Range(ConfigKey key, string value, long min, long max)
        => long.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var v) && v >= min && v <= max
            ? v
            : throw new ConfigException($"{key.Env} must be an integer from {min} to {max}, got '{value}'");

    private static Storage.Tables.BlockCompression Codec(ConfigKey key, string value) => value switch
    {
        "none" => Storage.Tables.BlockCompression.None,
        "lz4" => Storage.Tables.BlockCompression.Lz4,
        "zstd" => Storage.Tables.BlockCompression.Zstd,
        _ => throw new ConfigException($"{key.Env} must be 'none', 'lz4' or 'zstd', got '{value}'"),
    };

    private static double Double(ConfigKey key, string value)
        => double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out var v) && v >= 0
            ? v
            : throw new ConfigException($"{key.Env} must be a non-negative number, got '{value}'");

    /// <summary>CORS: <c>*</c> (any origin), <c>none</c> / empty (no CORS headers) or origins, comma-separated, each an
    /// http(s) scheme and host (and port) without a path, compared with the browser's <c>Origin</c> as written.</summary>
    private static IReadOnlyList<string> CorsOrigins(string value)
    {
        var origins = value.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
        if (origins.Length == 0 || origins is ["none"])
        {
            return [];
        }

        if (origins.Contains("*", StringComparer.Ordinal))
        {
            return ["*"];
        }

        foreach (var origin in origins)
        {
            if (!Uri.TryCreate(origin, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https") || uri.PathAndQuery != "/" || origin.EndsWith('/'))
            {
                throw new ConfigException($"{ConfigKeys.Cors.Env} must be *, none or origins like http://host:port (comma-separated), got '{origin}'");
            }
        }

        return origins;
    }

    /// <summary>An S3 key prefix: empty, or text without a leading '/', empty segments ("//"), "." / ".." segments or
    /// control characters, returned ending in '/'.</summary>
    internal static string ObjectKeyPrefix(ConfigKey key, string value)
    {
        if (value.Length == 0)
        {
            return value;
        }

        var trimmed = value.EndsWith('/') ? value[..^1] : value;
        if (trimmed.Length == 0 || value.Length > 512 || value.Any(char.IsControl) || trimmed.Split('/').Any(s => s is "" or "." or ".."))
        {
            throw new ConfigException($"{key.Env} must be a key prefix like 'prod/' or 'team/cluster-a/' (no leading '/', no empty, '.' or '..' parts, at most 512 characters), got '{value}'");
        }

        return trimmed + "/";
    }

    private static TimeSpan Positive(ConfigKey key, TimeSpan value)
        => value > TimeSpan.Zero ? value : throw new ConfigException($"{key.Env} must be greater than zero, got {value.TotalSeconds} s");
}
