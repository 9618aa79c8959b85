using System.Globalization;

namespace RaftKv.Tiering.Backups;

/// <summary>
/// BACKUP_RETENTION: how many backups to keep (<c>7</c>) or for how long (<c>72h</c>, <c>30m</c>, <c>2d</c>).
/// The newest backup is always kept, whatever its age.
/// </summary>
public sealed record BackupRetention(int Count, TimeSpan MaxAge)
{
    public static readonly BackupRetention Default = new(7, TimeSpan.Zero);

    /// <summary>Parses a count or an age; null for a malformed value.</summary>
    public static BackupRetention? Parse(string text)
    {
        text = text.Trim();
        if (text.Length == 0)
        {
            return Default;
        }

        if (int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var count))
        {
            return count >= 1 ? new BackupRetention(count, TimeSpan.Zero) : null;
        }

        var unit = text[^1];
        if (!double.TryParse(text[..^1], NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var n) || n <= 0)
        {
            return null;
        }

        return unit switch
        {
            'd' => new BackupRetention(0, TimeSpan.FromDays(n)),
            'h' => new BackupRetention(0, TimeSpan.FromHours(n)),
            'm' => new BackupRetention(0, TimeSpan.FromMinutes(n)),
            's' => new BackupRetention(0, TimeSpan.FromSeconds(n)),
            _ => null,
        };
    }

    /// <summary>The backups to keep of <paramref name="newestFirst"/> (sorted newest first) at <paramref name="now"/>.</summary>
    public IReadOnlyList<BackupManifest> Retained(IReadOnlyList<BackupManifest> newestFirst, DateTimeOffset now) =>
        Count > 0
            ? [.. newestFirst.Take(Count)]
            : [.. newestFirst.Where((m, i) => i == 0 || now - m.Created <= MaxAge)];

    public override string ToString() => Count > 0 ? $"{Count} backups" : $"{MaxAge.TotalHours:0.##}h";
}
