using System.CommandLine;
using System.Globalization;
using RaftKv.Client;
using Spectre.Console;

namespace RaftKv.Cli;

/// <summary>
/// Options every command takes (etcdctl's names where etcdctl has one), each with an environment variable as
/// its default: <c>--endpoints</c> (RAFTKV_ENDPOINTS), <c>--cacert/--cert/--key</c> (RAFTKV_CACERT, …),
/// <c>--user</c> (RAFTKV_USER), <c>-w</c>, <c>--command-timeout</c>, <c>--http-endpoint</c> (RAFTKV_HTTP_ENDPOINT).
/// </summary>
public sealed class GlobalOptions
{
    public const string DefaultEndpoint = "127.0.0.1:50051";

    public Option<string> Endpoints { get; } = new("--endpoints")
    {
        Description = "gRPC endpoints, comma-separated host:port (https:// for TLS); the next is tried when one fails [env RAFTKV_ENDPOINTS]",
        HelpName = "host:port,...",
        Recursive = true,
    };

    public Option<string> CaCert { get; } = new("--cacert") { Description = "TLS: trust this CA (PEM) instead of the machine's store [env RAFTKV_CACERT]", HelpName = "file", Recursive = true };

    public Option<string> Cert { get; } = new("--cert") { Description = "TLS: client certificate (PEM), with --key [env RAFTKV_CERT]", HelpName = "file", Recursive = true };

    public Option<string> Key { get; } = new("--key") { Description = "TLS: client certificate's private key (PEM) [env RAFTKV_KEY]", HelpName = "file", Recursive = true };

    public Option<string> User { get; } = new("--user")
    {
        Description = "authenticate as name:password when auth is on (name alone prompts for the password) [env RAFTKV_USER]",
        HelpName = "name[:password]",
        Recursive = true,
    };

    public Option<string> WriteOut { get; } = new Option<string>("--write-out", "-w")
    {
        Description = "output format: simple, table or json",
        DefaultValueFactory = _ => "simple",
        HelpName = "simple|table|json",
        Recursive = true,
    }.AcceptOnlyFromAmong("simple", "table", "json");

    public Option<string> CommandTimeout { get; } = new("--command-timeout")
    {
        Description = "how long a command may take, retries and failover included (e.g. 500ms, 5s, 2m)",
        DefaultValueFactory = _ => "10s",
        HelpName = "duration",
        Recursive = true,
    };

    public Option<string> HttpEndpoint { get; } = new("--http-endpoint")
    {
        Description = "HTTP address for the admin routes (backup); default: the members' advertised HTTP addresses [env RAFTKV_HTTP_ENDPOINT]",
        HelpName = "host:port",
        Recursive = true,
    };

    public IEnumerable<Option> All => [Endpoints, CaCert, Cert, Key, User, WriteOut, CommandTimeout, HttpEndpoint];

    /// <summary>The settings of <paramref name="result"/>, options first, then the environment. Throws <see cref="UsageException"/>.</summary>
    public KvctlSettings Read(ParseResult result)
    {
        var endpoints = (result.GetValue(Endpoints) ?? Env("RAFTKV_ENDPOINTS") ?? DefaultEndpoint)
            .Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        if (endpoints.Length == 0)
        {
            throw new UsageException("--endpoints names no endpoint");
        }

        foreach (var endpoint in endpoints)
        {
            CheckEndpoint(endpoint);
        }

        var (user, password) = Credentials(result.GetValue(User) ?? Env("RAFTKV_USER"));
        return new KvctlSettings(
            endpoints,
            Tls(result.GetValue(CaCert) ?? Env("RAFTKV_CACERT"), result.GetValue(Cert) ?? Env("RAFTKV_CERT"), result.GetValue(Key) ?? Env("RAFTKV_KEY")),
            user,
            password,
            Format(result),
            ParseDuration(result.GetValue(CommandTimeout) ?? "10s", "--command-timeout"),
            result.GetValue(HttpEndpoint) ?? Env("RAFTKV_HTTP_ENDPOINT"));
    }

    public OutputFormat Format(ParseResult result) => result.GetValue(WriteOut) switch
    {
        "table" => OutputFormat.Table,
        "json" => OutputFormat.Json,
        _ => OutputFormat.Simple,
    };

    /// <summary>An endpoint is <c>host:port</c>, optionally after <c>http://</c> or <c>https://</c> (etcdctl's form): anything
    /// else is a usage error here, not a connection that fails later as "unavailable".</summary>
    private static void CheckEndpoint(string endpoint)
    {
        var scheme = endpoint.IndexOf("://", StringComparison.Ordinal);
        if (scheme >= 0 && endpoint[..scheme].ToLowerInvariant() is not ("http" or "https"))
        {
            throw new UsageException($"--endpoints: '{endpoint}' has the scheme '{endpoint[..scheme]}'; use host:port, http://host:port or https://host:port");
        }

        var authority = (scheme >= 0 ? endpoint[(scheme + 3)..] : endpoint).TrimEnd('/');
        var colon = authority.LastIndexOf(':');
        var host = colon > 0 ? authority[..colon] : string.Empty;
        var port = colon > 0 ? authority[(colon + 1)..] : string.Empty;
        var hostOk = host.Length > 0 && (host.StartsWith('[') ? host.EndsWith(']') : !host.Contains(':', StringComparison.Ordinal))
            && Uri.CheckHostName(host.Trim('[', ']')) != UriHostNameType.Unknown;
        if (!hostOk || !int.TryParse(port, NumberStyles.None, CultureInfo.InvariantCulture, out var p) || p is < 1 or > 65535)
        {
            throw new UsageException($"--endpoints: '{endpoint}' is not host:port (a host name or IP address, and a port from 1 to 65535)");
        }
    }

    /// <summary>"500ms", "5s", "2m" or a bare number of seconds.</summary>
    public static TimeSpan ParseDuration(string text, string name)
    {
        var (digits, unit) = text.EndsWith("ms", StringComparison.Ordinal) ? (text[..^2], 0.001)
            : text.EndsWith('s') ? (text[..^1], 1.0)
            : text.EndsWith('m') ? (text[..^1], 60.0)
            : (text, 1.0);
        return double.TryParse(digits, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var v) && v > 0
            ? TimeSpan.FromSeconds(v * unit)
            : throw new UsageException($"{name} must be a positive duration such as 500ms, 5s or 2m (got '{text}')");
    }

    private static string? Env(string name) => Environment.GetEnvironmentVariable(name) is { Length: > 0 } v ? v : null;

    private static (string? User, string? Password) Credentials(string? value)
    {
        if (value is null)
        {
            return (null, null);
        }

        var colon = value.IndexOf(':', StringComparison.Ordinal);
        var (user, password) = colon < 0 ? (value, null) : (value[..colon], value[(colon + 1)..]);
        if (user.Length == 0)
        {
            throw new UsageException("--user needs a user name (name:password)");
        }

        if (password is null)
        {
            if (Console.IsInputRedirected)
            {
                throw new UsageException("--user needs name:password when no terminal can ask for the password");
            }

            password = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(Console.Error) }).Prompt(new TextPrompt<string>($"Password for {user}:").Secret()); // stderr: stdout stays the answer's
        }

        return (user, password);
    }

    /// <summary>TLS from PEM files; null = plaintext (unless an endpoint is https://).</summary>
    private static ClientTls? Tls(string? ca, string? cert, string? key)
    {
        if (ca is null && cert is null && key is null)
        {
            return null;
        }

        try
        {
            return new ClientTls(ca, cert, key);
        }
        catch (Exception e) when (e is ArgumentException or IOException or UnauthorizedAccessException or System.Security.Cryptography.CryptographicException)
        {
            throw new UsageException($"TLS files: {e.Message}");
        }
    }
}
