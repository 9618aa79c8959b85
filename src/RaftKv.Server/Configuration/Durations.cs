using System.Globalization;

namespace RaftKv.Server.Configuration;

/// <summary>Duration settings: a number of seconds (90, 0.5) or a number with a unit s, m, h or d (90s, 30m, 1h, 2d).</summary>
public static class Durations
{
    /// <summary>Parses <paramref name="text"/> of setting <paramref name="key"/>; empty = zero; anything else is a
    /// <see cref="ConfigException"/> naming the setting.</summary>
    public static TimeSpan Parse(ConfigKey key, string text)
    {
        ArgumentNullException.ThrowIfNull(key);
        ArgumentNullException.ThrowIfNull(text);
        text = text.Trim();
        if (text.Length == 0)
        {
            return TimeSpan.Zero;
        }

        if (double.TryParse(text, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var seconds))
        {
            return TimeSpan.FromSeconds(seconds);
        }

        if (text.Length > 1 && double.TryParse(text[..^1], NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var n) && n >= 0)
        {
            switch (text[^1])
            {
                case 's': return TimeSpan.FromSeconds(n);
                case 'm': return TimeSpan.FromMinutes(n);
                case 'h': return TimeSpan.FromHours(n);
                case 'd': return TimeSpan.FromDays(n);
            }
        }

        throw new ConfigException($"{key.Env} must be a duration (1h, 30m, 90s, 1d) or a number of seconds, got '{text}'");
    }
}
