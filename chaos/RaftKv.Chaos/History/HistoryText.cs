using System.Globalization;
using System.Text.RegularExpressions;

namespace RaftKv.Chaos.History;

/// <summary>Parses the history dump the harness writes on failure (<see cref="Operation.ToString"/>).</summary>
public static partial class HistoryText
{
    public static List<Operation> Load(string path) => File.ReadLines(path).Where(l => l.StartsWith('#')).Select(Parse).ToList();

    public static Operation Parse(string line)
    {
        var m = Line().Match(line);
        if (!m.Success)
        {
            throw new FormatException($"not a history line: {line}");
        }

        static string? Nil(string s) => s == "nil" ? null : s;
        var status = Enum.Parse<OpStatus>(m.Groups["status"].Value);
        var invoke = long.Parse(m.Groups["inv"].Value, CultureInfo.InvariantCulture);
        var ret = m.Groups["ret"].Value == "?" ? long.MaxValue : long.Parse(m.Groups["ret"].Value, CultureInfo.InvariantCulture);
        var id = int.Parse(m.Groups["id"].Value, CultureInfo.InvariantCulture);
        var client = int.Parse(m.Groups["client"].Value, CultureInfo.InvariantCulture);
        var body = m.Groups["body"].Value;
        if (Read().Match(body) is { Success: true } r)
        {
            return new Operation(id, client, r.Groups[1].Value, OpKind.Read, null, null, Nil(r.Groups[2].Value), invoke, ret, status);
        }

        if (Write().Match(body) is { Success: true } w)
        {
            return new Operation(id, client, w.Groups[1].Value, OpKind.Write, w.Groups[2].Value, null, null, invoke, ret, status);
        }

        var c = Cas().Match(body);
        return c.Success
            ? new Operation(id, client, c.Groups[1].Value, OpKind.Cas, c.Groups[3].Value, Nil(c.Groups[2].Value), c.Groups[4].Value == "?" ? null : c.Groups[4].Value, invoke, ret, status)
            : throw new FormatException($"unknown operation: {body}");
    }

    [GeneratedRegex(@"^#(?<id>\d+) c(?<client>-?\d+) (?<body>.+) \[(?<status>\w+)\] @(?<inv>\d+)\.\.(?<ret>\d+|\?)$")]
    private static partial Regex Line();

    [GeneratedRegex(@"^read\(([^)]+)\) -> (.+)$")]
    private static partial Regex Read();

    [GeneratedRegex(@"^write\(([^,]+), (.+)\)$")]
    private static partial Regex Write();

    [GeneratedRegex(@"^cas\(([^,]+), (.+) -> (.+)\) = (.+)$")]
    private static partial Regex Cas();
}
