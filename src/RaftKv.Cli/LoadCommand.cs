using System.CommandLine;
using System.Text;
using System.Text.Json;

namespace RaftKv.Cli;

/// <summary>
/// <c>load --file F.jsonl</c>: bulk-load keys, one JSON object per line — <c>{"key": "k", "value": "v"}</c>, with
/// optional <c>"ttl"</c> (seconds), <c>"encoding": "base64"</c> (the value is base64) and <c>"key_encoding": "base64"</c>
/// (the key is: what <c>get -w json</c> prints for a key that is not UTF-8) — written with
/// <c>--concurrency</c> puts in flight, with a progress bar over the file's bytes. Blank lines are skipped. A
/// malformed line stops the load (exit 2) and says how many keys were written before it; each put is a separate
/// write, so a stopped load leaves the keys before it in place (loading the file again rewrites them).
/// </summary>
public static class LoadCommand
{
    public static IEnumerable<Command> Create(KvctlApp app)
    {
        var file = new Option<string>("--file", "-f") { Description = "the JSON-lines file", HelpName = "file.jsonl", Required = true };
        var concurrency = new Option<int>("--concurrency") { Description = "puts in flight", DefaultValueFactory = _ => 16, HelpName = "n" };
        var quiet = new Option<bool>("--quiet", "-q") { Description = "no progress on stderr" };
        var command = new Command("load", "Bulk-load keys from a JSON-lines file ({\"key\":…,\"value\":…,\"ttl\"?:…} per line)") { file, concurrency, quiet };
        app.Handle(command, async call =>
        {
            var path = call.Get(file)!;
            if (!File.Exists(path))
            {
                throw new UsageException($"no such file: {path}");
            }

            var c = call.Get(concurrency);
            if (c is < 1 or > 1024)
            {
                throw new UsageException("--concurrency must be between 1 and 1024");
            }

            var total = new FileInfo(path).Length;
            long loaded = 0;
            var clock = System.Diagnostics.Stopwatch.StartNew();
            try
            {
                await LoadAsync(call, path, c, call.Get(quiet) || call.Output.Format == OutputFormat.Json, total, () => Interlocked.Increment(ref loaded)).ConfigureAwait(false);
            }
            catch (UsageException e)
            {
                throw new UsageException($"{e.Message}; {Interlocked.Read(ref loaded)} keys were written before it stopped");
            }

            var seconds = Math.Max(clock.Elapsed.TotalSeconds, 0.001);
            if (call.Output.Format == OutputFormat.Simple)
            {
                call.Output.Line(string.Create(System.Globalization.CultureInfo.InvariantCulture, $"loaded {loaded} keys in {seconds:0.0} s ({loaded / seconds:0} keys/s)"));
            }
            else
            {
                call.Output.Fields([("loaded", loaded), ("seconds", Math.Round(seconds, 3))]);
            }

            return ExitCode.Ok;
        });
        return [command];
    }

    private static Task<int> LoadAsync(KvctlCall call, string path, int concurrency, bool quiet, long total, Action written)
        => ProgressDisplay.RunAsync("load", "bytes", quiet, async progress =>
        {
            long done = 0;
            var gate = new object();
            await Parallel.ForEachAsync(ReadAsync(path, call.Cancel), new ParallelOptions { MaxDegreeOfParallelism = concurrency, CancellationToken = call.Cancel }, async (item, ct) =>
            {
                await call.Client.PutAsync(item.Key, item.Value, item.Ttl, cancellationToken: ct).ConfigureAwait(false);
                written();
                lock (gate)
                {
                    done += item.Bytes;
                    progress.Report((done, total));
                }
            }).ConfigureAwait(false);
            progress.Report((total, total));
            return 0;
        });

    private static async IAsyncEnumerable<(byte[] Key, byte[] Value, TimeSpan? Ttl, long Bytes)> ReadAsync(string path, [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken)
    {
        using var reader = new StreamReader(path, Encoding.UTF8);
        var number = 0;
        while (await reader.ReadLineAsync(cancellationToken).ConfigureAwait(false) is { } line)
        {
            number++;
            var bytes = Encoding.UTF8.GetByteCount(line) + 1;
            if (string.IsNullOrWhiteSpace(line))
            {
                continue;
            }

            yield return Parse(line, number) with { Bytes = bytes };
        }
    }

    private static (byte[] Key, byte[] Value, TimeSpan? Ttl, long Bytes) Parse(string line, int number)
    {
        try
        {
            using var doc = JsonDocument.Parse(line);
            var root = doc.RootElement;
            var key = root.TryGetProperty("key", out var k) && k.GetString() is { Length: > 0 } ks ? ks : throw new UsageException($"line {number}: needs a non-empty \"key\"");
            var value = root.TryGetProperty("value", out var v) ? v.GetString() ?? string.Empty : throw new UsageException($"line {number}: needs a \"value\"");
            var base64 = root.TryGetProperty("encoding", out var e) && e.GetString() == "base64";
            var keyBase64 = root.TryGetProperty("key_encoding", out var ke) && ke.GetString() == "base64";
            var ttl = root.TryGetProperty("ttl", out var t) ? t.GetInt64() : 0;
            return (keyBase64 ? Convert.FromBase64String(key) : Encoding.UTF8.GetBytes(key), base64 ? Convert.FromBase64String(value) : Encoding.UTF8.GetBytes(value), ttl > 0 ? TimeSpan.FromSeconds(ttl) : null, 0);
        }
        catch (Exception ex) when (ex is JsonException or InvalidOperationException or FormatException)
        {
            throw new UsageException($"line {number}: not a {{\"key\",\"value\"}} JSON object ({ex.Message})");
        }
    }
}
