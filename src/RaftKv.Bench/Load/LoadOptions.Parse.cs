using System.Globalization;

namespace RaftKv.Bench.Load;

/// <summary>Command-line parsing of a load run (<c>raftkv-bench &lt;workload&gt; [options]</c>).</summary>
public sealed partial record LoadOptions
{
    private static readonly string[] Workloads = ["put", "get", "get-serializable", "mixed", "large", "range", "load"];

    /// <summary>The options of <paramref name="workload"/> from <paramref name="args"/> (everything after the
    /// workload). Unknown workloads, distributions and malformed numbers throw <see cref="ArgumentException"/>
    /// or <see cref="FormatException"/>.</summary>
    public static LoadOptions Parse(string workload, IReadOnlyList<string> args)
    {
        if (!Workloads.Contains(workload))
        {
            throw new ArgumentException($"unknown workload '{workload}' ({string.Join(", ", Workloads)})", nameof(workload));
        }

        var a = args.ToList(); // a repeated option: its last value wins
        string? Opt(string name) => a.LastIndexOf(name) is var i and >= 0 && i + 1 < a.Count ? a[i + 1] : null;
        int Int(string name, int fallback) => Opt(name) is { } v ? int.Parse(v, CultureInfo.InvariantCulture) : fallback;
        var distribution = Opt("--distribution") ?? "uniform";
        if (distribution is not ("uniform" or "zipf"))
        {
            throw new ArgumentException($"unknown distribution '{distribution}' (uniform or zipf)", nameof(args));
        }

        var batch = Int("--batch", 1);
        if (batch < 1)
        {
            throw new ArgumentException("--batch must be at least 1", nameof(args));
        }

        var conns = Int("--conns", 0);
        if (conns < 0)
        {
            throw new ArgumentException("--conns must be at least 0", nameof(args));
        }

        return new LoadOptions
        {
            Workload = workload,
            Target = Opt("--target") ?? "raftkv",
            Endpoints = (Opt("--endpoints") ?? "127.0.0.1:50051").Split(',', StringSplitOptions.RemoveEmptyEntries),
            Clients = Int("--clients", 16),
            Conns = conns,
            Total = Int("--total", 0),
            Duration = TimeSpan.FromSeconds(Int("--duration", 10)),
            Warmup = TimeSpan.FromSeconds(Int("--warmup", 2)),
            KeySize = Int("--key-size", 8),
            ValueSize = Int("--value-size", 256),
            KeySpace = Int("--key-space", 100_000),
            Distribution = distribution,
            ZipfTheta = Opt("--zipf-theta") is { } theta ? double.Parse(theta, CultureInfo.InvariantCulture) : 0.99,
            SkipLoad = a.Contains("--skip-load"),
            Batch = batch,
            Seed = Int("--seed", 42),
            Json = a.Contains("--json"),
            Preload = !a.Contains("--no-preload"),
            User = Opt("--user") is { } user ? BenchCredentials.Parse(user) : null,
            TokenFile = Opt("--token-file"),
            Tls = Opt("--cacert") is null && Opt("--cert") is null ? null : new RaftKv.Client.ClientTls(Opt("--cacert"), Opt("--cert"), Opt("--key")),
        };
    }
}
