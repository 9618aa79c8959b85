using System.CommandLine;
using System.Text;
using Google.Protobuf;
using RaftKv.Protocol.Etcd;

namespace RaftKv.Cli;

/// <summary><c>get</c>, <c>put</c>, <c>delete</c>, <c>scan</c>, <c>txn</c>: the key space.</summary>
public static class KvCommands
{
    public static IEnumerable<Command> Create(KvctlApp app) => [Get(app), Put(app), Delete(app), Scan(app), Txn(app)];

    private static Command Get(KvctlApp app)
    {
        var key = new Argument<string>("key") { Description = "the key (with --prefix: the prefix; \"\" = every key)" };
        var prefix = new Option<bool>("--prefix") { Description = "every key that starts with <key>" };
        var rev = new Option<long>("--rev") { Description = "read as of this revision (etcd MVCC history; 0 = current)", HelpName = "revision" };
        var limit = new Option<long>("--limit") { Description = "at most this many keys (0 = no limit)", HelpName = "n" };
        var keysOnly = new Option<bool>("--keys-only") { Description = "print keys, not values" };
        var serializable = new Option<bool>("--serializable") { Description = "read this member's state without a read barrier (may be stale)" };
        var command = new Command("get", "Print a key's value (exit 1 if missing), or every key with a prefix") { key, prefix, rev, limit, keysOnly, serializable };
        app.Handle(command, async call =>
        {
            var k = call.Get(key);
            var (r, n) = (NonNegative(call.Get(rev), "--rev"), NonNegative(call.Get(limit), "--limit"));
            if (r > 0)
            {
                return await AtRevisionAsync(call, k, call.Get(prefix), r, n, call.Get(keysOnly), call.Get(serializable)).ConfigureAwait(false);
            }

            if (call.Get(prefix))
            {
                return await ScanAsync(call, k, n, call.Get(keysOnly)).ConfigureAwait(false);
            }

            var kv = await call.Client.GetAsync(Encoding.UTF8.GetBytes(k), call.Get(serializable), call.Cancel).ConfigureAwait(false);
            if (call.Output.Format != OutputFormat.Simple)
            {
                call.Output.KeyValues(kv is null ? [] : [KvRecord.From(kv, call.Get(keysOnly))], call.Get(keysOnly));
            }
            else if (kv is null)
            {
                call.Output.Line("(not found)");
            }
            else
            {
                call.Output.Line(call.Get(keysOnly) ? k : kv.Value.ToStringUtf8());
                call.Output.Line($"# version {kv.Version}, tier {KvRecord.TierName(kv.Tier)}");
            }

            return kv is null ? ExitCode.Failed : ExitCode.Ok;
        });
        return command;
    }

    private static Command Put(KvctlApp app)
    {
        var key = new Argument<string>("key");
        var value = new Argument<string>("value") { Description = "the value (UTF-8 text)" };
        var ttl = new Option<long>("--ttl") { Description = "expire after this many seconds (0 = never)", HelpName = "seconds" };
        var command = new Command("put", "Write a value") { key, value, ttl };
        app.Handle(command, async call =>
        {
            var t = NonNegative(call.Get(ttl), "--ttl");
            var put = await call.Client.PutAsync(NonEmpty(call.Get(key)), Encoding.UTF8.GetBytes(call.Get(value)), t > 0 ? TimeSpan.FromSeconds(t) : null, cancellationToken: call.Cancel).ConfigureAwait(false);
            if (call.Output.Format == OutputFormat.Simple)
            {
                call.Output.Line($"OK version {put.Version}");
            }
            else
            {
                call.Output.Fields([("revision", put.Version)]);
            }

            return ExitCode.Ok;
        });
        return command;
    }

    private static Command Delete(KvctlApp app)
    {
        var key = new Argument<string>("key") { Arity = ArgumentArity.ZeroOrOne, Description = "the key (with --prefix: a non-empty prefix)" };
        var prefix = new Option<bool>("--prefix") { Description = "delete every key that starts with <key>" };
        var all = new Option<bool>("--all") { Description = "delete every key in the store" };
        var command = new Command("delete", "Delete a key, every key with a prefix, or (--all) every key; exit 1 if nothing was deleted") { key, prefix, all };
        command.Aliases.Add("del");
        app.Handle(command, async call =>
        {
            var k = call.Parse.GetValue(key);
            var deleted = call.Get(all)
                ? (k is null ? await call.Client.DeleteAllAsync(call.Cancel).ConfigureAwait(false) : throw new UsageException("delete --all takes no key"))
                : k is null ? throw new UsageException("missing <key> (or --all)")
                : k.Length == 0 ? throw new UsageException("the key must not be empty (delete --all deletes every key)")
                : await call.Client.DeleteAsync(Encoding.UTF8.GetBytes(k), call.Get(prefix), cancellationToken: call.Cancel).ConfigureAwait(false);
            if (call.Output.Format == OutputFormat.Simple)
            {
                call.Output.Line($"deleted {deleted.Deleted}");
            }
            else
            {
                call.Output.Fields([("deleted", deleted.Deleted), ("revision", deleted.Version)]);
            }

            return deleted.Deleted > 0 ? ExitCode.Ok : ExitCode.Failed;
        });
        return command;
    }

    private static Command Scan(KvctlApp app)
    {
        var prefix = new Argument<string>("prefix") { Arity = ArgumentArity.ZeroOrOne, Description = "list keys with this prefix (default: every key)" };
        var limit = new Option<long>("--limit") { Description = "at most this many keys (0 = no limit)", HelpName = "n" };
        var keysOnly = new Option<bool>("--keys-only") { Description = "print keys, not values" };
        var command = new Command("scan", "List keys and values with a prefix (same as get --prefix)") { prefix, limit, keysOnly };
        app.Handle(command, call => ScanAsync(call, call.Parse.GetValue(prefix) ?? string.Empty, NonNegative(call.Get(limit), "--limit"), call.Get(keysOnly)));
        return command;
    }

    private static Command Txn(KvctlApp app)
    {
        var key = new Argument<string>("key");
        var expected = new Argument<string>("expected") { Description = "the value the key must hold" };
        var next = new Argument<string>("new") { Description = "the value written if it does" };
        var command = new Command("txn", "Compare-and-set on the value (exit 1 if the value did not match)") { key, expected, next };
        app.Handle(command, async call =>
        {
            var ok = await call.Client.CompareAndSetAsync(NonEmpty(call.Get(key)), Encoding.UTF8.GetBytes(call.Get(expected)), Encoding.UTF8.GetBytes(call.Get(next)), call.Cancel).ConfigureAwait(false);
            if (call.Output.Format == OutputFormat.Simple)
            {
                call.Output.Line(ok ? "SUCCEEDED" : "FAILED (value did not match)");
            }
            else
            {
                call.Output.Fields([("succeeded", ok)]);
            }

            return ok ? ExitCode.Ok : ExitCode.Failed;
        });
        return command;
    }

    private static async Task<ExitCode> ScanAsync(KvctlCall call, string prefix, long limit, bool keysOnly)
    {
        var rows = new List<KvRecord>();
        var more = false;
        byte[]? next = null;
        do
        {
            var page = await call.Client.RangeAsync(Encoding.UTF8.GetBytes(prefix), prefix: true, limit: (uint)Math.Min(1000, limit == 0 ? 1000 : limit - rows.Count), continuation: next, keysOnly: keysOnly, cancellationToken: call.Cancel).ConfigureAwait(false);
            rows.AddRange(page.Kvs.Select(kv => KvRecord.From(kv, keysOnly)));
            next = page.More ? page.Next.ToByteArray() : null;
            more = page.More;
        }
        while (next is not null && (limit == 0 || rows.Count < limit));

        call.Output.KeyValues(rows, keysOnly, more: more && limit > 0);
        return ExitCode.Ok;
    }

    /// <summary>etcd's Range at a revision: the key, or every key with the prefix, as of <paramref name="revision"/>.</summary>
    private static async Task<ExitCode> AtRevisionAsync(KvctlCall call, string key, bool prefix, long revision, long limit, bool keysOnly, bool serializable)
    {
        var start = Encoding.UTF8.GetBytes(key);
        var request = new RangeRequest { Key = ByteString.CopyFrom(start.Length == 0 && prefix ? [0] : start), Revision = revision, Limit = limit, KeysOnly = keysOnly, Serializable = serializable };
        if (prefix)
        {
            request.RangeEnd = ByteString.CopyFrom(PrefixEnd(start));
        }

        var response = await call.Connection.EtcdAsync((c, o) => new KV.KVClient(c).RangeAsync(request, o).ResponseAsync, call.Cancel).ConfigureAwait(false);
        var rows = response.Kvs.Select(kv => KvRecord.From(kv, keysOnly)).ToList();
        if (!prefix && call.Output.Format == OutputFormat.Simple)
        {
            call.Output.Line(rows.Count == 0 ? "(not found)" : keysOnly ? rows[0].Key : rows[0].Value ?? string.Empty);
            if (rows.Count > 0)
            {
                call.Output.Line($"# version {rows[0].ModRevision}, as of revision {revision}");
            }
        }
        else
        {
            call.Output.KeyValues(rows, keysOnly, revision, response.More);
        }

        return !prefix && rows.Count == 0 ? ExitCode.Failed : ExitCode.Ok;
    }

    /// <summary>etcd's range end of a prefix: the prefix with its last byte below 0xFF incremented; "\0" = to the end.</summary>
    private static byte[] PrefixEnd(byte[] prefix)
    {
        for (var i = prefix.Length - 1; i >= 0; i--)
        {
            if (prefix[i] < 0xFF)
            {
                var end = prefix[..(i + 1)];
                end[i]++;
                return end;
            }
        }

        return [0];
    }

    private static byte[] NonEmpty(string key) => key.Length > 0 ? Encoding.UTF8.GetBytes(key) : throw new UsageException("the key must not be empty");

    public static long NonNegative(long value, string name) => value >= 0 ? value : throw new UsageException($"{name} must not be negative");
}
