using System.Globalization;
using RaftKv.Bench.Load;
using RaftKv.Bench.Storage;

// raftkv-bench <workload> [--target raftkv|etcd] [--endpoints a,b] [--clients N] [--total N] [--duration S] [--warmup S]
//              [--key-size B] [--value-size B] [--key-space N] [--seed N] [--json] [--cacert F] [--cert F --key F]
//              [--user name:password] [--no-preload]
// raftkv-bench storage [--quick]        storage engine vs RocksDB (WAL disabled), same data
// raftkv-bench storage-compression [--quick] [--keys N]   block codecs none/lz4/zstd on JSON/text/random values; block cache under Zipfian gets
// raftkv-bench soak --endpoints a,b,c --rate R [--clients N] [--duration S] [--interval S]   paced mixed load, one JSON line per interval (bench/soak.sh)
if (args.Length == 0 || args[0] is "--help" or "-h")
{
    Console.WriteLine("usage: raftkv-bench put|get|get-serializable|mixed|large|range [--target raftkv|etcd] [--endpoints host:port,...] [--clients N] [--total N] [--duration S] [--warmup S] [--key-size B] [--value-size B] [--key-space N] [--seed N] [--json] [--cacert ca.pem] [--cert client.pem --key client-key.pem] [--user name:password] [--no-preload]");
    Console.WriteLine("       raftkv-bench storage [--quick]");
    Console.WriteLine("       raftkv-bench storage-compression [--quick] [--keys N]");
    return args.Length == 0 ? 2 : 0;
}

if (args[0] == "storage-compression")
{
    return CompressionBenchmarks.Run(args[1..]);
}

if (args[0] == "storage")
{
    return StorageBenchmarks.Run(args[1..]);
}

if (args[0] == "soak")
{
    var s = args.Skip(1).ToList();
    string? SoakOpt(string name) => s.IndexOf(name) is var i and >= 0 && i + 1 < s.Count ? s[i + 1] : null;
    await new SoakRunner(
        (SoakOpt("--endpoints") ?? "127.0.0.1:50051").Split(',', StringSplitOptions.RemoveEmptyEntries),
        int.Parse(SoakOpt("--clients") ?? "8", CultureInfo.InvariantCulture),
        double.Parse(SoakOpt("--rate") ?? "500", CultureInfo.InvariantCulture),
        TimeSpan.FromSeconds(int.Parse(SoakOpt("--duration") ?? "1800", CultureInfo.InvariantCulture)),
        TimeSpan.FromSeconds(int.Parse(SoakOpt("--interval") ?? "10", CultureInfo.InvariantCulture)),
        int.Parse(SoakOpt("--seed") ?? "42", CultureInfo.InvariantCulture)).RunAsync();
    return 0;
}

var a = args.Skip(1).ToList();
string? Opt(string name)
{
    var i = a.IndexOf(name);
    return i >= 0 && i + 1 < a.Count ? a[i + 1] : null;
}

int Int(string name, int fallback) => Opt(name) is { } v ? int.Parse(v, CultureInfo.InvariantCulture) : fallback;

var options = new LoadOptions
{
    Workload = args[0],
    Target = Opt("--target") ?? "raftkv",
    Endpoints = (Opt("--endpoints") ?? "127.0.0.1:50051").Split(',', StringSplitOptions.RemoveEmptyEntries),
    Clients = Int("--clients", 16),
    Total = Int("--total", 0),
    Duration = TimeSpan.FromSeconds(Int("--duration", 10)),
    Warmup = TimeSpan.FromSeconds(Int("--warmup", 2)),
    KeySize = Int("--key-size", 8),
    ValueSize = Int("--value-size", 256),
    KeySpace = Int("--key-space", 100_000),
    Seed = Int("--seed", 42),
    Json = a.Contains("--json"),
    Preload = !a.Contains("--no-preload"),
    User = Opt("--user") is { } user ? BenchCredentials.Parse(user) : null,
    Tls = Opt("--cacert") is null && Opt("--cert") is null ? null : new RaftKv.Client.ClientTls(Opt("--cacert"), Opt("--cert"), Opt("--key")),
};
Console.Error.WriteLine($"seed {options.Seed}");
var result = await new LoadRunner(options).RunAsync();
Console.WriteLine(options.Json ? result.ToJson() : result.ToTable());
return 0;
