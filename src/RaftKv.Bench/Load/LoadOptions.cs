namespace RaftKv.Bench.Load;

/// <summary>A load run: workload, target, clients, bounds.</summary>
public sealed partial record LoadOptions
{
    /// <summary>put | get | get-serializable | mixed | large | range | load.</summary>
    public string Workload { get; init; } = "put";

    /// <summary>raftkv | etcd.</summary>
    public string Target { get; init; } = "raftkv";

    public IReadOnlyList<string> Endpoints { get; init; } = ["127.0.0.1:50051"];

    public int Clients { get; init; } = 16;

    /// <summary>--conns: HTTP/2 connections the clients share, client c on connection c mod Conns, as etcd's
    /// <c>benchmark --conns</c> (0 = one connection per client, the default). Not used by the <c>load</c> workload.</summary>
    public int Conns { get; init; }

    /// <summary>Stop after this many measured requests (0 = only the duration bounds the run).</summary>
    public long Total { get; init; }

    public TimeSpan Duration { get; init; } = TimeSpan.FromSeconds(10);

    public TimeSpan Warmup { get; init; } = TimeSpan.FromSeconds(2);

    public int KeySize { get; init; } = 8;

    public int ValueSize { get; init; } = 256;

    public int KeySpace { get; init; } = 100_000;

    /// <summary>--distribution: how reads and puts pick keys, <c>uniform</c> or <c>zipf</c> (see <see cref="KeyChooser"/>).</summary>
    public string Distribution { get; init; } = "uniform";

    /// <summary>--zipf-theta: the Zipf exponent (YCSB's default 0.99).</summary>
    public double ZipfTheta { get; init; } = 0.99;

    /// <summary>--skip-load: every key of the key space was written before (by the <c>load</c> workload): no
    /// preload, and reads pick from the whole key space (without it they pick from the preloaded first 20 000).</summary>
    public bool SkipLoad { get; init; }

    /// <summary>--batch: puts per request of the <c>load</c> workload (one transaction each; 1 = plain puts).</summary>
    public int Batch { get; init; } = 1;

    public int Seed { get; init; } = 42;

    public bool Json { get; init; }

    /// <summary>Write the read workloads' keys first (false with --no-preload: an earlier run on the same data did).</summary>
    public bool Preload { get; init; } = true;

    /// <summary>--cacert/--cert/--key: TLS to the target (null = plaintext).</summary>
    public RaftKv.Client.ClientTls? Tls { get; init; }

    /// <summary>--user name:password: authenticate once, then a token per request (null = no auth).</summary>
    public (string Name, string Password)? User { get; init; }

    /// <summary><c>--token-file</c>: reuse the token saved there by an earlier run, save new ones (<see cref="BenchCredentials"/>).</summary>
    public string? TokenFile { get; init; }
}
