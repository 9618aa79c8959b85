using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Serialization;
using Spectre.Console;
using Spectre.Console.Rendering;

namespace RaftKv.Cli;

/// <summary>
/// Where a command's answer goes (stdout) in the chosen <see cref="OutputFormat"/>: plain lines, a Spectre.Console
/// table, or JSON (snake_case, one document per answer; <see cref="JsonLine"/> for streams). Diagnostics and
/// progress go to stderr, never here, so stdout stays parseable.
/// </summary>
public sealed class Output(OutputFormat format, TextWriter writer)
{
    private static readonly JsonSerializerOptions Indented = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
        WriteIndented = true,
    };

    private static readonly JsonSerializerOptions Compact = new(Indented) { WriteIndented = false };

    private IAnsiConsole? _console;

    public OutputFormat Format => format;

    public TextWriter Writer => writer;

    private IAnsiConsole Console => _console ??= CreateConsole(writer);

    public void Line(string text) => writer.WriteLine(text);

    public void Json(object value) => writer.WriteLine(JsonSerializer.Serialize(value, Indented));

    public void JsonLine(object value) => writer.WriteLine(JsonSerializer.Serialize(value, Compact));

    /// <summary>A table with <paramref name="headers"/>; cells are plain text (never markup).</summary>
    public void Table(IReadOnlyList<string> headers, IEnumerable<IReadOnlyList<string>> rows, string? caption = null)
    {
        var table = new Table().Border(TableBorder.Rounded);
        foreach (var h in headers)
        {
            table.AddColumn(new TableColumn(new Text(h, new Style(decoration: Decoration.Bold))));
        }

        foreach (var row in rows)
        {
            table.AddRow(row.Select(c => (IRenderable)new Text(c)).ToArray());
        }

        if (caption is not null)
        {
            table.Caption(new TableTitle(caption));
        }

        Console.Write(table);
    }

    /// <summary>Name/value pairs: "name value" lines (simple), a two-column table, or a JSON object.</summary>
    public void Fields(IReadOnlyList<(string Name, object? Value)> fields)
    {
        switch (format)
        {
            case OutputFormat.Json:
                Json(fields.ToDictionary(f => f.Name, f => f.Value));
                break;
            case OutputFormat.Table:
                Table(["FIELD", "VALUE"], fields.Select(f => (IReadOnlyList<string>)[f.Name, Show(f.Value)]));
                break;
            default:
                foreach (var (name, value) in fields)
                {
                    Line($"{name}\t{Show(value)}");
                }

                break;
        }
    }

    /// <summary>Key/values: "key\tvalue\t(vN)" lines and a "# N keys" trailer, a table, or {"kvs":[…],"count":N}.</summary>
    public void KeyValues(IReadOnlyList<KvRecord> kvs, bool keysOnly, long? revision = null, bool more = false)
    {
        switch (format)
        {
            case OutputFormat.Json:
                Json(new { revision, count = kvs.Count, more, kvs });
                break;
            case OutputFormat.Table:
                var headers = keysOnly ? new[] { "KEY", "MOD_REV" } : ["KEY", "VALUE", "MOD_REV", "CREATE_REV", "VERSION", "LEASE", "TIER"];
                Table(headers, kvs.Select(k => (IReadOnlyList<string>)(keysOnly
                    ? [k.Key, Show(k.ModRevision)]
                    : [k.Key, k.Value ?? string.Empty, Show(k.ModRevision), Show(k.CreateRevision), Show(k.Version), k.Lease == 0 ? "-" : Show(k.Lease), k.Tier ?? "-"])),
                    caption: $"{kvs.Count} keys{(more ? " (more: raise --limit)" : string.Empty)}");
                break;
            default:
                foreach (var k in kvs)
                {
                    Line(keysOnly ? k.Key : $"{k.Key}\t{k.Value}\t(v{k.ModRevision})");
                }

                Line($"# {kvs.Count} keys{(more ? " (more)" : string.Empty)}");
                break;
        }
    }

    /// <summary>A console over <paramref name="writer"/>; when that is not a terminal, tables are not wrapped at 80 columns.</summary>
    private static IAnsiConsole CreateConsole(TextWriter writer)
    {
        var console = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(writer), Interactive = InteractionSupport.No });
        if (writer != System.Console.Out || System.Console.IsOutputRedirected)
        {
            console.Profile.Width = 400;
        }

        return console;
    }

    public static string Show(object? value) => value switch
    {
        null => "-",
        bool b => b ? "true" : "false",
        IFormattable f => f.ToString(null, System.Globalization.CultureInfo.InvariantCulture),
        _ => value.ToString() ?? string.Empty,
    };
}
