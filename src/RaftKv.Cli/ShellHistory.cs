namespace RaftKv.Cli;

/// <summary>
/// The shell's command history: kept in memory for up/down-arrow recall and appended, one command a line, to a file
/// (<c>~/.kvctl_history</c>, or KVCTL_HISTORY) so the next session recalls it too. The newest 1,000 lines are
/// loaded; a repeat of the previous command is not stored twice. A file that cannot be written only loses persistence.
/// </summary>
public sealed class ShellHistory
{
    private const int Kept = 1000;
    private readonly List<string> _entries = [];
    private readonly string? _path;

    private ShellHistory(string? path) => _path = path;

    public static string DefaultPath => Environment.GetEnvironmentVariable("KVCTL_HISTORY") is { Length: > 0 } p
        ? p
        : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".kvctl_history");

    public int Count => _entries.Count;

    public string this[int index] => _entries[index];

    public static ShellHistory Load(string? path)
    {
        var history = new ShellHistory(path);
        try
        {
            if (path is not null && File.Exists(path))
            {
                var lines = File.ReadAllLines(path);
                history._entries.AddRange(lines.Where(l => l.Length > 0).TakeLast(Kept));
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            Console.Error.WriteLine($"kvctl: history not loaded from {path}: {e.Message}");
        }

        return history;
    }

    public void Add(string line)
    {
        if (line.Length == 0 || line.Contains('\n', StringComparison.Ordinal) || (_entries.Count > 0 && _entries[^1] == line))
        {
            return;
        }

        _entries.Add(line);
        if (_path is null)
        {
            return;
        }

        try
        {
            File.AppendAllText(_path, line + "\n");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            Console.Error.WriteLine($"kvctl: history not saved to {_path}: {e.Message}");
        }
    }
}
