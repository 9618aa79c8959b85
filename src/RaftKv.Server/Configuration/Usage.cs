using System.Reflection;

namespace RaftKv.Server.Configuration;

/// <summary><c>raftkv --help</c> and <c>raftkv --version</c>: every setting from <see cref="ConfigKeys.All"/> (the same
/// source as the loader and docs/operations.md's table), with its flag, environment variable and default.</summary>
public static class Usage
{
    /// <summary>True when <paramref name="args"/> ask for help (<c>--help</c>, <c>-h</c>, <c>help</c>).</summary>
    public static bool WantsHelp(string[] args) => args is ["help", ..] || args.Any(a => a is "--help" or "-h");

    /// <summary>True when <paramref name="args"/> ask for the version (<c>--version</c>, <c>version</c>).</summary>
    public static bool WantsVersion(string[] args) => args is ["version", ..] || args.Contains("--version");

    /// <summary>The server's version (the assembly's informational version, without build metadata).</summary>
    public static string Version
    {
        get
        {
            var info = typeof(Usage).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "unknown";
            var plus = info.IndexOf('+', StringComparison.Ordinal);
            return plus > 0 ? info[..plus] : info;
        }
    }

    public static void Write(TextWriter output)
    {
        ArgumentNullException.ThrowIfNull(output);
        output.WriteLine($"raftkv {Version}: a Raft-replicated key-value store serving etcd's v3 API");
        output.WriteLine();
        output.WriteLine("Usage: raftkv [--flag value | --flag=value]...   (a true/false flag may stand alone: --learner)");
        output.WriteLine("       raftkv restore ...                          (a data directory from a snapshot or backup; `raftkv restore` prints its usage)");
        output.WriteLine("       raftkv --help | --version");
        output.WriteLine();
        output.WriteLine("Every setting is a flag, an environment variable or a key of the --config file (JSON or TOML);");
        output.WriteLine("precedence: flags > environment > config file > defaults.");
        output.WriteLine();
        foreach (var key in ConfigKeys.All)
        {
            output.WriteLine($"  {key.Flag} ({key.Env}){(key.Default.Length > 0 ? $", default {key.Default}" : string.Empty)}");
            output.WriteLine($"      {key.Description}");
        }
    }
}
