using RaftKv.Server.Configuration;

namespace RaftKv.Server.Backup;

/// <summary>The argument handling <see cref="RestoreCommand"/> and <see cref="RestoreFromS3Command"/> share.</summary>
internal static class RestoreArgs
{
    /// <summary>
    /// Removes <c>name value</c> from <paramref name="args"/>: true with <paramref name="value"/> set (null when
    /// the option is absent), false when the option is given without a value (a usage error).
    /// </summary>
    public static bool TryTake(List<string> args, string name, out string? value)
    {
        value = null;
        var i = args.IndexOf(name);
        if (i < 0)
        {
            return true;
        }

        if (i + 1 >= args.Count)
        {
            return false;
        }

        value = args[i + 1];
        args.RemoveRange(i, 2);
        return true;
    }

    /// <summary>The node configuration from the remaining flags and the environment, or null after printing why not.</summary>
    public static async Task<ServerConfig?> LoadConfigAsync(List<string> args, TextWriter error)
    {
        try
        {
            return ConfigLoader.Load([.. args], Environment.GetEnvironmentVariables().Cast<System.Collections.DictionaryEntry>()
                .ToDictionary(e => (string)e.Key, e => (string?)e.Value, StringComparer.Ordinal));
        }
        catch (ConfigException e)
        {
            await error.WriteLineAsync($"raftkv restore: configuration error: {e.Message}").ConfigureAwait(false);
            return null;
        }
    }
}
