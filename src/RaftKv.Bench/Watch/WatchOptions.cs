using System.Globalization;

namespace RaftKv.Bench.Watch;

/// <summary>
/// Options of <c>raftkv-bench watch</c> (<see cref="WatchBenchmark"/>): <c>--endpoints</c> (the first one takes the
/// puts), <c>--watch-endpoints</c> (where the watch streams go, round robin; default the put endpoint),
/// <c>--watchers N</c> on <c>--streams S</c> gRPC streams (each watcher watches the whole prefix), <c>--rate R</c>
/// puts/s in total paced over <c>--clients C</c>, <c>--duration</c>/<c>--warmup</c> seconds (puts sent in the warm-up
/// are not counted), <c>--drain</c> seconds to wait for late events, <c>--value-size</c>, <c>--key-space</c>,
/// <c>--cacert</c>, <c>--json</c>.
/// </summary>
public sealed record WatchOptions
{
    public IReadOnlyList<string> Endpoints { get; init; } = ["127.0.0.1:2379"];

    public IReadOnlyList<string> WatchEndpoints { get; init; } = [];

    public int Watchers { get; init; } = 1000;

    public int Streams { get; init; } = 10;

    public double Rate { get; init; } = 100;

    public int Clients { get; init; } = 4;

    public TimeSpan Duration { get; init; } = TimeSpan.FromSeconds(10);

    public TimeSpan Warmup { get; init; } = TimeSpan.FromSeconds(2);

    public TimeSpan Drain { get; init; } = TimeSpan.FromSeconds(5);

    public int ValueSize { get; init; } = 256;

    public int KeySpace { get; init; } = 1000;

    public string? CaCert { get; init; }

    public bool Json { get; init; }

    /// <summary>Parses the arguments after <c>watch</c>; bad or out-of-range values throw <see cref="ArgumentException"/>.</summary>
    public static WatchOptions Parse(IReadOnlyList<string> args)
    {
        string? Opt(string name)
        {
            for (var i = args.Count - 2; i >= 0; i--) // the last occurrence wins, as in most command lines
            {
                if (args[i] == name)
                {
                    return args[i + 1];
                }
            }

            return null;
        }

        double Num(string name, double fallback, double min)
        {
            if (Opt(name) is not { } text)
            {
                return fallback;
            }

            return double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var v) && v >= min
                ? v
                : throw new ArgumentException($"{name} takes a number >= {min.ToString(CultureInfo.InvariantCulture)} (got '{text}')");
        }

        var endpoints = (Opt("--endpoints") ?? "127.0.0.1:2379").Split(',', StringSplitOptions.RemoveEmptyEntries);
        var o = new WatchOptions
        {
            Endpoints = endpoints,
            WatchEndpoints = Opt("--watch-endpoints")?.Split(',', StringSplitOptions.RemoveEmptyEntries) ?? [endpoints[0]],
            Watchers = (int)Num("--watchers", 1000, 1),
            Streams = (int)Num("--streams", 10, 1),
            Rate = Num("--rate", 100, 1),
            Clients = (int)Num("--clients", 4, 1),
            Duration = TimeSpan.FromSeconds(Num("--duration", 10, 1)),
            Warmup = TimeSpan.FromSeconds(Num("--warmup", 2, 0)),
            Drain = TimeSpan.FromSeconds(Num("--drain", 5, 1)),
            ValueSize = (int)Num("--value-size", 256, 8),
            KeySpace = (int)Num("--key-space", 1000, 1),
            CaCert = Opt("--cacert"),
            Json = args.Contains("--json"),
        };
        return o.Streams > o.Watchers ? throw new ArgumentException("--streams must not exceed --watchers") : o;
    }
}
