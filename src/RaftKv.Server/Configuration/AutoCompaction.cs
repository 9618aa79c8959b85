using System.Globalization;
using System.Text.RegularExpressions;

namespace RaftKv.Server.Configuration;

/// <summary>
/// Automatic compaction of MVCC history, etcd's <c>--auto-compaction-mode</c> / <c>--auto-compaction-retention</c>
/// (AUTO_COMPACTION_MODE / AUTO_COMPACTION_RETENTION). Default: off (etcd 3.4's default: mode periodic, retention 0).
/// <list type="bullet">
/// <item><c>periodic</c>: keep <see cref="Retention"/> of history. RETENTION is a duration ("1h", "30m", "1h30m",
/// "90s") or a bare number of hours ("1" = 1h, "0.5" = 30m), as etcd reads it.</item>
/// <item><c>revision</c>: keep the last <see cref="RetainRevisions"/> revisions. RETENTION is a count ("1000").</item>
/// </list>
/// RETENTION "0" (or empty) turns auto-compaction off in either mode.
/// </summary>
public sealed partial record AutoCompaction(AutoCompactionMode Mode, TimeSpan Retention, long RetainRevisions)
{
    public static readonly AutoCompaction Off = new(AutoCompactionMode.Off, TimeSpan.Zero, 0);

    /// <summary>Reads the two settings (mode "periodic" or "revision"); a malformed value is a <see cref="ConfigException"/>.</summary>
    public static AutoCompaction Parse(string mode, string retention)
    {
        retention = retention.Trim();
        switch (mode)
        {
            case "periodic":
                var span = ParseDuration(retention);
                return span <= TimeSpan.Zero ? Off : new AutoCompaction(AutoCompactionMode.Periodic, span, 0);
            case "revision":
                if (retention.Length == 0)
                {
                    return Off;
                }

                if (!long.TryParse(retention, NumberStyles.None, CultureInfo.InvariantCulture, out var revisions))
                {
                    throw new ConfigException($"AUTO_COMPACTION_RETENTION must be a revision count in revision mode, got '{retention}'");
                }

                return revisions == 0 ? Off : new AutoCompaction(AutoCompactionMode.Revision, TimeSpan.Zero, revisions);
            default:
                throw new ConfigException($"AUTO_COMPACTION_MODE must be 'periodic' or 'revision', got '{mode}'");
        }
    }

    private static TimeSpan ParseDuration(string text)
    {
        if (text.Length == 0)
        {
            return TimeSpan.Zero;
        }

        if (double.TryParse(text, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var hours))
        {
            return TimeSpan.FromHours(hours); // etcd: a bare number is hours
        }

        var match = DurationRegex().Match(text);
        if (!match.Success)
        {
            throw new ConfigException($"AUTO_COMPACTION_RETENTION must be a duration like 1h, 30m, 1h30m, 90s or a number of hours in periodic mode, got '{text}'");
        }

        var total = TimeSpan.Zero;
        foreach (Capture part in match.Groups["part"].Captures)
        {
            var unitAt = part.Value.IndexOfAny(['h', 'm', 's']);
            var number = double.Parse(part.Value[..unitAt], CultureInfo.InvariantCulture);
            total += part.Value[unitAt..] switch
            {
                "h" => TimeSpan.FromHours(number),
                "m" => TimeSpan.FromMinutes(number),
                "ms" => TimeSpan.FromMilliseconds(number),
                _ => TimeSpan.FromSeconds(number),
            };
        }

        return total;
    }

    [GeneratedRegex(@"^(?<part>\d+(\.\d+)?(h|ms|m|s))+$")]
    private static partial Regex DurationRegex();
}
