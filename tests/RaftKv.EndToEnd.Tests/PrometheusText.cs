using System.Globalization;
using System.Text.RegularExpressions;

namespace RaftKv.EndToEnd.Tests;

/// <summary>A parsed <c>GET /metrics</c> answer (Prometheus text format 0.0.4): the <c># TYPE</c> lines in
/// order (a name may appear more than once — that is what the tests look for) and every sample.</summary>
internal sealed partial class PrometheusText
{
    private PrometheusText(string text, List<(string Name, string Type)> types, List<Sample> samples)
    {
        Text = text;
        Types = types;
        Samples = samples;
    }

    public string Text { get; }

    /// <summary>Every <c># TYPE name type</c> line, in order.</summary>
    public IReadOnlyList<(string Name, string Type)> Types { get; }

    public IReadOnlyList<Sample> Samples { get; }

    public static PrometheusText Parse(string text)
    {
        var types = new List<(string, string)>();
        var samples = new List<Sample>();
        foreach (var raw in text.Split('\n'))
        {
            var line = raw.TrimEnd('\r');
            if (line.Length == 0)
            {
                continue;
            }

            var type = TypeLine().Match(line);
            if (type.Success)
            {
                types.Add((type.Groups[1].Value, type.Groups[2].Value));
                continue;
            }

            if (line.StartsWith('#'))
            {
                continue;
            }

            var m = SampleLine().Match(line);
            if (!m.Success)
            {
                throw new FormatException("not a Prometheus sample line: " + line);
            }

            var labels = new Dictionary<string, string>(StringComparer.Ordinal);
            foreach (Match l in Label().Matches(m.Groups[2].Value))
            {
                labels[l.Groups[1].Value] = l.Groups[2].Value;
            }

            var value = m.Groups[3].Value switch
            {
                "+Inf" => double.PositiveInfinity,
                "-Inf" => double.NegativeInfinity,
                "NaN" => double.NaN,
                var v => double.Parse(v, NumberStyles.Float, CultureInfo.InvariantCulture),
            };
            samples.Add(new Sample(m.Groups[1].Value, labels, value));
        }

        return new PrometheusText(text, types, samples);
    }

    /// <summary>The value of the one sample named <paramref name="name"/> whose labels include
    /// <paramref name="labels"/> (<c>"k=v"</c> pairs); null when there is none.</summary>
    public double? Value(string name, params string[] labels)
    {
        var want = labels.Select(l => l.Split('=', 2)).ToList();
        var hits = Samples.Where(s => s.Name == name && want.All(w => s.Labels.TryGetValue(w[0], out var v) && v == w[1])).ToList();
        return hits.Count switch
        {
            0 => null,
            1 => hits[0].Value,
            _ => throw new InvalidOperationException($"{hits.Count} samples of {name} match {string.Join(",", labels)}"),
        };
    }

    [GeneratedRegex("^# TYPE ([a-zA-Z_:][a-zA-Z0-9_:]*) ([a-z]+)$")]
    private static partial Regex TypeLine();

    [GeneratedRegex("^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\\{(.*)\\})? (\\S+)(?: \\d+)?$")]
    private static partial Regex SampleLine();

    [GeneratedRegex("([a-zA-Z_][a-zA-Z0-9_]*)=\"((?:[^\"\\\\]|\\\\.)*)\"")]
    private static partial Regex Label();

    /// <summary>One sample line.</summary>
    public sealed record Sample(string Name, IReadOnlyDictionary<string, string> Labels, double Value);
}
