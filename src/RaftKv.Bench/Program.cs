using System.Globalization;
using RaftKv.Bench.Load;
using RaftKv.Bench.Storage;
using RaftKv.Bench.Watch;

// raftkv-bench <workload> [--target raftkv|etcd] [--endpoints a,b] [--clients N] [--total N] [--duration S] [--warmup S]
//              [--key-size B] [--value-size B] [--key-space N] [--seed N] [--json] [--cacert F] [--cert F --key F]
//              [--user name:password [--token-file PATH]] [--no-preload] [--distribution uniform|zipf] [--zipf-theta T] [--skip-load]
//              --target etcd spreads the clients round-robin over the endpoints (as etcd's clients); raftkv: all at the leader
// raftkv-bench load --key-space N [--batch B] [--value-size B] ...   write every key of the key space once (then get --skip-load)
// raftkv-bench storage [--quick]        storage engine vs RocksDB (WAL disabled), same data
// raftkv-bench storage-compression [--quick] [--keys N]   block codecs none/lz4/zstd on JSON/text/random values; block cache under Zipfian gets
// raftkv-bench watch --endpoints a [--watch-endpoints b,c] [--watchers N] [--streams S] [--rate R] [--clients C] [--duration S] [--warmup S] [--drain S] [--json]
//              many watchers on one prefix under a paced put load, through etcd's v3 API: events/s delivered, delivery lag
// raftkv-bench soak --endpoints a,b,c --rate R [--clients N] [--duration S] [--interval S]   paced mixed load, one JSON line per interval (bench/soak.sh)
if (args.Length == 0 || args.Any(a => a is "--help" or "-h"))
{
    Console.WriteLine("usage: raftkv-bench put|get|get-serializable|mixed|large|range [--target raftkv|etcd] [--endpoints host:port,...] [--clients N] [--conns N] [--total N] [--duration S] [--warmup S] [--key-size B] [--value-size B] [--key-space N] [--seed N] [--json] [--cacert ca.pem] [--cert client.pem --key client-key.pem] [--user name:password [--token-file PATH]] [--no-preload] [--distribution uniform|zipf] [--zipf-theta T] [--skip-load]");
    Console.WriteLine("       raftkv-bench load --key-space N [--batch B] [--value-size B] [--key-size B] [--clients N] [--target raftkv|etcd] [--endpoints ...] [--json]");
    Console.WriteLine("       raftkv-bench watch [--endpoints host:port] [--watch-endpoints host:port,...] [--watchers N] [--streams S] [--rate PUTS_PER_S] [--clients C] [--duration S] [--warmup S] [--drain S] [--value-size B] [--key-space N] [--cacert ca.pem] [--json]");
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

if (args[0] == "watch")
{
    var watchOptions = WatchOptions.Parse(args[1..]);
    var watch = await new WatchBenchmark(watchOptions).RunAsync();
    Console.WriteLine(watchOptions.Json ? watch.ToJson() : watch.ToTable());
    return 0;
}

if (args[0] == "soak")
{
    var s = args.Skip(1).ToList();
    string? SoakOpt(string name) => s.LastIndexOf(name) is var i and >= 0 && i + 1 < s.Count ? s[i + 1] : null;
    await new SoakRunner(
        (SoakOpt("--endpoints") ?? "127.0.0.1:50051").Split(',', StringSplitOptions.RemoveEmptyEntries),
        int.Parse(SoakOpt("--clients") ?? "8", CultureInfo.InvariantCulture),
        double.Parse(SoakOpt("--rate") ?? "500", CultureInfo.InvariantCulture),
        TimeSpan.FromSeconds(int.Parse(SoakOpt("--duration") ?? "1800", CultureInfo.InvariantCulture)),
        TimeSpan.FromSeconds(int.Parse(SoakOpt("--interval") ?? "10", CultureInfo.InvariantCulture)),
        int.Parse(SoakOpt("--seed") ?? "42", CultureInfo.InvariantCulture)).RunAsync();
    return 0;
}

var options = LoadOptions.Parse(args[0], args[1..]);
Console.Error.WriteLine($"seed {options.Seed}");
var result = await new LoadRunner(options).RunAsync();
Console.WriteLine(options.Json ? result.ToJson() : result.ToTable());
return 0;
