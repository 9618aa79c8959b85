using System.Globalization;
using System.Text;
using RaftKv.Client;
using RaftKv.Protocol.V1;

namespace RaftKv.Cli;

/// <summary>kvctl: a command-line client in the spirit of etcdctl.</summary>
public static class Kvctl
{
    public const string Usage = """
        kvctl [--endpoints host:port,...] [--cacert ca.pem] [--cert client.pem --key client-key.pem] <command> [args]

        Commands:
          get <key> [--serializable]              print the value (exit 1 if missing)
          put <key> <value> [--ttl seconds]       write a value
          delete <key> [--prefix]                 delete a key or every key with the (non-empty) prefix
          delete --all                            delete every key in the store
          scan <prefix> [--limit n] [--keys-only] list keys and values with a prefix
          txn <key> <expected> <new>              compare-and-set on the value
          watch <key> [--prefix] [--from version] stream changes until Ctrl-C
          status                                  this endpoint's Raft status
          members                                 cluster members
          add-member <id> <raft host:port> [<grpc host:port>]
          remove-member <id>
          flush | compact | migrate               local admin on the endpoint's node
          snapshot save <file> [--reference-archived] [--quiet]
                                                  save a backup snapshot of the first endpoint's member
                                                  (archived tables included unless --reference-archived);
                                                  restore it with 'raftkv restore <file>'

        TLS: --cacert (or an https:// endpoint) connects over TLS; --cacert trusts that CA instead of the
        machine's store; --cert/--key present a client certificate (servers with CLIENT_CERT_AUTH).

        Environment: RAFTKV_ENDPOINTS (default 127.0.0.1:50051), RAFTKV_CACERT, RAFTKV_CERT, RAFTKV_KEY.
        """;

    public static async Task<int> RunAsync(string[] args, TextWriter output)
    {
        var rest = new List<string>(args);
        if (rest.Count == 0 || rest.Contains("--help") || rest.Contains("-h"))
        {
            output.WriteLine(Usage);
            return rest.Count == 0 ? 2 : 0;
        }

        var endpoints = Take(rest, "--endpoints") ?? Environment.GetEnvironmentVariable("RAFTKV_ENDPOINTS") ?? "127.0.0.1:50051";
        var tls = Tls(rest);
        using var client = new RaftKvClient(endpoints.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries), new RaftKvClientOptions { Tls = tls });
        var command = rest[0];
        rest.RemoveAt(0);
        switch (command)
        {
            case "get":
                var serializable = Flag(rest, "--serializable");
                var kv = await client.GetAsync(Key(rest, 0), serializable).ConfigureAwait(false);
                if (kv is null)
                {
                    output.WriteLine("(not found)");
                    return 1;
                }

                output.WriteLine(kv.Value.ToStringUtf8());
                output.WriteLine($"# version {kv.Version}, tier {kv.Tier}");
                return 0;
            case "put":
                var ttl = Take(rest, "--ttl") is { } t ? TimeSpan.FromSeconds(ParseLong(t, "--ttl")) : (TimeSpan?)null;
                var put = await client.PutAsync(Key(rest, 0), Encoding.UTF8.GetBytes(Arg(rest, 1, "value")), ttl).ConfigureAwait(false);
                output.WriteLine($"OK version {put.Version}");
                return 0;
            case "delete":
                var del = Flag(rest, "--all")
                    ? (rest.Count == 0 ? await client.DeleteAllAsync().ConfigureAwait(false) : throw new UsageException("delete --all takes no key"))
                    : await client.DeleteAsync(NonEmptyKey(rest, 0), Flag(rest, "--prefix")).ConfigureAwait(false);
                output.WriteLine($"deleted {del.Deleted}");
                return del.Deleted > 0 ? 0 : 1;
            case "scan":
                var limit = Take(rest, "--limit") is { } l ? ParseLong(l, "--limit") : long.MaxValue;
                var keysOnly = Flag(rest, "--keys-only");
                var prefix = rest.Count > 0 ? Encoding.UTF8.GetBytes(rest[0]) : [];
                long n = 0;
                await foreach (var e in client.ScanAsync(prefix, prefix: true).ConfigureAwait(false))
                {
                    output.WriteLine(keysOnly ? e.Key.ToStringUtf8() : $"{e.Key.ToStringUtf8()}\t{e.Value.ToStringUtf8()}\t(v{e.Version})");
                    if (++n >= limit)
                    {
                        break;
                    }
                }

                output.WriteLine($"# {n} keys");
                return 0;
            case "txn":
                var ok = await client.CompareAndSetAsync(Key(rest, 0), Encoding.UTF8.GetBytes(Arg(rest, 1, "expected")), Encoding.UTF8.GetBytes(Arg(rest, 2, "new"))).ConfigureAwait(false);
                output.WriteLine(ok ? "SUCCEEDED" : "FAILED (value did not match)");
                return ok ? 0 : 1;
            case "watch":
                var from = Take(rest, "--from") is { } f ? (ulong)ParseLong(f, "--from") : 0UL;
                using (var cts = new CancellationTokenSource())
                {
                    Console.CancelKeyPress += (_, e) =>
                    {
                        e.Cancel = true;
                        cts.Cancel();
                    };
                    try
                    {
                        await foreach (var e in client.WatchAsync(Key(rest, 0), Flag(rest, "--prefix"), from, cts.Token).ConfigureAwait(false))
                        {
                            output.WriteLine($"{e.Type}\t{e.Kv.Key.ToStringUtf8()}\t{e.Kv.Value.ToStringUtf8()}\t(v{e.Kv.Version})");
                        }
                    }
                    catch (OperationCanceledException)
                    {
                    }
                }

                return 0;
            case "status":
                var s = await client.StatusAsync().ConfigureAwait(false);
                output.WriteLine($"node {s.NodeId}  role {s.Role}  term {s.Term}  leader {s.LeaderId} ({s.Leader})");
                output.WriteLine($"commit {s.CommitIndex}  applied {s.AppliedIndex}  durable {s.DurableIndex}");
                return 0;
            case "members":
                var m = await client.MembersAsync().ConfigureAwait(false);
                output.WriteLine("ID\tRAFT\tGRPC\tHTTP\tSTATUS\tLEADER");
                foreach (var member in m.Members)
                {
                    output.WriteLine($"{member.Id}\t{member.RaftAddress}\t{member.GrpcAddress}\t{member.HttpAddress}\t{member.Status}\t{(member.IsLeader ? "*" : string.Empty)}");
                }

                return 0;
            case "add-member":
                await client.AddMemberAsync(new AddMemberRequest { Id = (ulong)ParseLong(Arg(rest, 0, "id"), "id"), RaftAddress = Arg(rest, 1, "raft address"), GrpcAddress = rest.Count > 2 ? rest[2] : string.Empty }).ConfigureAwait(false);
                output.WriteLine("member added");
                return 0;
            case "remove-member":
                await client.RemoveMemberAsync((ulong)ParseLong(Arg(rest, 0, "id"), "id")).ConfigureAwait(false);
                output.WriteLine("member removed");
                return 0;
            case "flush":
                output.WriteLine($"flushed; durable index {(await client.FlushAsync().ConfigureAwait(false)).DurableIndex}");
                return 0;
            case "compact":
                var c = await client.CompactAsync().ConfigureAwait(false);
                output.WriteLine($"compacted; tables {c.TablesBefore} -> {c.TablesAfter}");
                return 0;
            case "migrate":
                var mg = await client.MigrateAsync().ConfigureAwait(false);
                output.WriteLine($"migrated {mg.TablesMigrated} tables ({mg.BytesUploaded} bytes)");
                return 0;
            case "snapshot":
                return await SnapshotAsync(client, rest, output).ConfigureAwait(false);
            default:
                throw new UsageException($"unknown command '{command}'");
        }
    }

    private static async Task<int> SnapshotAsync(RaftKvClient client, List<string> rest, TextWriter output)
    {
        if (rest.Count == 0 || rest[0] != "save")
        {
            throw new UsageException("snapshot takes 'save <file>'");
        }

        rest.RemoveAt(0);
        var reference = Flag(rest, "--reference-archived");
        var quiet = Flag(rest, "--quiet");
        var path = Arg(rest, 0, "file");
        var lastPercent = -1L;
        var progress = quiet ? null : new Progress<(long Sent, long Total)>(p =>
        {
            var percent = p.Total > 0 ? p.Sent * 100 / p.Total : 0;
            if (percent / 10 != lastPercent / 10 || p.Sent == p.Total)
            {
                lastPercent = percent;
                Console.Error.WriteLine($"snapshot: {p.Sent} / {p.Total} bytes ({percent}%)");
            }
        });
        try
        {
            var r = await client.SaveSnapshotAsync(path, reference, progress).ConfigureAwait(false);
            output.WriteLine($"Snapshot saved at {r.Path} ({r.Bytes} bytes, raft index {r.RaftIndex})");
            return 0;
        }
        catch (InvalidDataException e)
        {
            Console.Error.WriteLine($"kvctl: snapshot not saved: {e.Message}");
            return 1;
        }
    }

    /// <summary>--cacert/--cert/--key (or RAFTKV_CACERT/RAFTKV_CERT/RAFTKV_KEY); null = plaintext.</summary>
    private static ClientTls? Tls(List<string> args)
    {
        static string? Env(string name) => Environment.GetEnvironmentVariable(name) is { Length: > 0 } v ? v : null;
        var ca = Take(args, "--cacert") ?? Env("RAFTKV_CACERT");
        var cert = Take(args, "--cert") ?? Env("RAFTKV_CERT");
        var key = Take(args, "--key") ?? Env("RAFTKV_KEY");
        if (ca is null && cert is null && key is null)
        {
            return null;
        }

        try
        {
            return new ClientTls(ca, cert, key);
        }
        catch (Exception e) when (e is ArgumentException or IOException or UnauthorizedAccessException or System.Security.Cryptography.CryptographicException)
        {
            throw new UsageException($"TLS files: {e.Message}");
        }
    }

    private static string? Take(List<string> args, string flag)
    {
        var i = args.IndexOf(flag);
        if (i < 0)
        {
            return null;
        }

        if (i + 1 >= args.Count)
        {
            throw new UsageException($"{flag} needs a value");
        }

        var v = args[i + 1];
        args.RemoveRange(i, 2);
        return v;
    }

    private static bool Flag(List<string> args, string flag) => args.Remove(flag);

    private static string Arg(List<string> args, int i, string name) => i < args.Count ? args[i] : throw new UsageException($"missing <{name}>");

    private static byte[] Key(List<string> args, int i) => Encoding.UTF8.GetBytes(Arg(args, i, "key"));

    private static byte[] NonEmptyKey(List<string> args, int i)
        => Arg(args, i, "key") is { Length: > 0 } k ? Encoding.UTF8.GetBytes(k) : throw new UsageException("the key must not be empty (delete --all deletes every key)");

    private static long ParseLong(string s, string name)
        => long.TryParse(s, NumberStyles.None, CultureInfo.InvariantCulture, out var v) ? v : throw new UsageException($"{name} must be a non-negative integer");
}
