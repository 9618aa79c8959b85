using System.Globalization;
using System.Text.RegularExpressions;
using Xunit.Abstractions;

namespace RaftKv.EndToEnd.Tests.Etcd.Differential;

/// <summary>
/// etcdctl 3.4 command by command against a real etcd 3.4 and RaftKv given the same command lines
/// (<see cref="EtcdctlDiff"/>): get's flags in seeded random combinations, put/del flags, txn's interactive form with
/// every compare target and bad compare syntax, bad input (ids, keys, TTLs, revisions, timeouts), watch and lock with
/// an exec command (the ETCD_WATCH_* / ETCD_LOCK_* environment), <c>watch -i</c>, and <c>check datascale</c> /
/// <c>check perf</c>'s refusals. Every write goes to both, so their revisions stay equal.
/// Seed: <c>RAFTKV_DIFF_SEED</c> (default random, printed).
/// </summary>
public sealed partial class EtcdctlCommandsDifferentialTests(DiffFixture fixture, ITestOutputHelper output) : IClassFixture<DiffFixture>
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(60);

    private Task<EtcdctlResult> Same(params string[] args) => EtcdctlDiff.AssertSameAsync(fixture, args);

    private Task<EtcdctlResult> SameIn(string stdin, params string[] args) => EtcdctlDiff.AssertSameAsync(fixture, stdin, null, args);

    [Fact]
    public async Task GetPutAndDelFlagsInRandomCombinationsAnswerAsEtcd()
    {
        var seed = int.TryParse(Environment.GetEnvironmentVariable("RAFTKV_DIFF_SEED"), out var s) ? s : Random.Shared.Next();
        output.WriteLine($"RAFTKV_DIFF_SEED={seed}");
        var random = new Random(seed);
        string[] keys = ["r/a", "r/ab", "r/abc", "r/b", "r/ba", "r/c", "r/k\u00ff", "r/z", "r/zz"];
        string[][] flags =
        [
            ["--prefix"], ["--from-key"], ["--keys-only"], ["--limit=1"], ["--limit=2"], ["--sort-by=VALUE"], ["--sort-by=CREATE"],
            ["--sort-by=MODIFY"], ["--sort-by=VERSION"], ["--sort-by=KEY"], ["--order=DESCEND"], ["--order=ASCEND"],
            ["--consistency=s"], ["--consistency=l"], ["--print-value-only"], ["--hex"], ["-w", "json"], ["-w", "fields"],
        ];
        var first = (await Same("put", "r/a", "0", "-w", "json")).Json.GetProperty("header").GetProperty("revision").GetInt64();
        for (var step = 0; step < 160; step++)
        {
            var key = keys[random.Next(keys.Length)];
            string[] args = (step < 40 ? random.Next(10) : random.Next(20)) switch
            {
                < 6 => ["put", key, "v" + random.Next(4).ToString(CultureInfo.InvariantCulture)],
                6 => ["put", key, "p", "--prev-kv", "-w", random.Next(2) == 0 ? "json" : "simple"],
                7 => ["del", key, "--prev-kv"],
                8 => ["del", key, "r0", "--prev-kv", "-w", "json"],
                9 => random.Next(3) switch
                {
                    0 => ["put", key, "--ignore-value"],
                    1 => ["put", key, "--ignore-lease"],
                    _ => ["del", key, "--from-key", "--prev-kv", "-w", "json"], // also the keys of this class's other tests: on both
                },
                _ => Get(random, key, keys, flags, first),
            };
            await Same(args);
        }
    }

    private static string[] Get(Random random, string key, string[] keys, string[][] flags, long first)
    {
        var args = new List<string> { "get", random.Next(8) == 0 ? "r/" : key };
        if (random.Next(5) == 0)
        {
            args.Add(keys[random.Next(keys.Length)]); // a range end, perhaps before the key
        }

        for (var n = random.Next(5); n > 0; n--)
        {
            args.AddRange(flags[random.Next(flags.Length)]);
        }

        if (random.Next(6) == 0)
        {
            args.Add("--rev=" + (first + random.Next(60)).ToString(CultureInfo.InvariantCulture)); // past, or future
        }

        return [.. args];
    }

    [Fact]
    public async Task TxnInteractiveComparesAndBadSyntaxAnswerAsEtcd()
    {
        await Same("put", "t/a", "13");
        await Same("put", "t/a", "14");
        await Same("put", "t/b", "x");
        string[] scripts =
        [
            "c(\"t/a\") > \"0\"\nm(\"t/a\") > \"1\"\nver(\"t/a\") = \"2\"\nval(\"t/a\") = \"14\"\n\nput t/x 1\nget t/a\n\nget t/b\n\n",
            "val(\"t/a\") = \"13\"\n\nput t/x 2\n\nget t/a --prefix\ndel t/b --prev-kv\nput t/b y --prev-kv\n\n",
            "ver(\"t/none\") = \"0\"\nc(\"t/none\") = \"0\"\n\nput t/none 1\n\n\n",
            "val(\"t/none\") = \"1\"\nval(\"t/zzz\") != \"1\"\n\n\nget t/none\n\n",
            "m(\"t/a\") < \"1000000\"\nc(\"t/a\") != \"0\"\nver(\"t/a\") != \"9\"\n\nget t/ --prefix --keys-only\nget t/a --limit=1\n\n\n", // (a get with --rev in a txn: docs/api.md, "Differences from etcd")
            "\n\n\n",
            "\nput t/e1 1\nput t/e2 2\ndel t/e1 t/e3\n\n\n",
            "\nput t/d 1\nput t/d 2\n\n\n",
            "lease(\"t/a\") = \"0\"\n\n\n\n",
            "bogus(\"t/a\") = \"1\"\n\n\n\n",
            "c(\"t/a\") ~ \"1\"\n\n\n\n",
            "ver(\"t/a\") = \"x\"\n\n\n\n",
            "val(\"\") = \"1\"\n\n\n\n",
            "\nput \"\" 1\n\n\n",
            "\nbadop x\n\n\n",
            "\nput t/l 1 --lease=zz\n\n\n",
            "\nput t/l 1 --lease=123\n\n\n",
            "val(\"t/a\") = \"14\"\n\nput t/x 3\n",
        ];
        foreach (var script in scripts)
        {
            await SameIn(script, "txn", "-i");
            await SameIn(script, "txn", "-i", "-w", "json");
            await SameIn(script, "txn"); // the same lines without the prompts
        }
    }

    [Fact]
    public async Task BadInputAnswersAsEtcd()
    {
        await Same("put", "bad/k", "v");
        string[][] commands =
        [
            ["get", string.Empty], ["put", string.Empty, "v"], ["del", string.Empty], ["put"], ["put", "bad/k"], ["del"], ["get"],
            ["put", "bad/none", "--ignore-value"], ["put", "bad/none", "--ignore-lease", "v"], ["put", "bad/k", "v", "--ignore-value"],
            ["put", "bad/k", "v", "--lease=zz"], ["put", "bad/k", "v", "--lease=ffffffffffffffff"], ["put", "bad/k", "v", "--lease=0x12"],
            ["put", "bad/k", "v", "--lease=7fffffffffffffff"], ["put", "bad/k", "v", "--lease=-1"], ["put", "bad/k", "v", "--lease=0"],
            ["lease", "grant"], ["lease", "grant", "abc"], ["lease", "grant", "9000000001"], ["lease", "grant", "99999999999999999999"],
            ["lease", "revoke", "zzz"], ["lease", "revoke", "123abc"], ["lease", "revoke", "0"], ["lease", "timetolive", "zz"],
            ["lease", "timetolive", "ffffffffffffffff"], ["lease", "keep-alive", "--once", "0"], ["lease", "keep-alive", "--once", "123abc"],
            ["member", "remove"], ["member", "remove", "zz"], ["member", "remove", "1234"], ["member", "promote", "1234"],
            ["member", "promote", "zz"], ["member", "update", "1234"], ["member", "update", "1234", "--peer-urls=http://127.0.0.1:1"],
            ["member", "update", "zz", "--peer-urls=http://127.0.0.1:1"], ["member", "add"], ["member", "add", "x"],
            ["member", "add", "x", "--peer-urls=bad"], ["move-leader"], ["move-leader", "zz"], ["move-leader", "1234"],
            ["compaction"], ["compaction", "abc"], ["compaction", "999999999"], ["get", "bad/k", "--rev=999999999"],
            ["get", "bad/k", "--sort-by=BOGUS"], ["get", "bad/k", "--order=BOGUS"], ["get", "bad/k", "--consistency=x"],
            ["get", "bad/k", "--limit=x"], ["del", "bad/k", "--prefix", "--from-key"], ["get", "bad/k", "--prefix", "--from-key"],
            ["lock"], ["elect"], ["elect", "-l"], ["elect", "e1"],
            ["lock", "l1", "--ttl=abc"], ["check", "perf", "--load=bogus"], ["check", "datascale", "--load=zz"],
            ["snapshot", "restore"], ["alarm", "bogus"], ["endpoint", "bogus"], ["bogus"], ["get", "bad/k", "-w", "bogus"],
            ["--command-timeout=1ns", "get", "bad/k"], ["role", "grant-permission", "nobody", "bogus", "a"],
            ["role", "delete", "nobody"], ["user", "delete", "nobody"], ["auth", "enable"], ["auth", "bogus"],
        ];
        foreach (var command in commands)
        {
            await Same(command);
        }

        // A request larger than etcdctl's own 2 MiB send limit fails in the client on both; a value between etcd's
        // 1.5 MiB request limit and RaftKv's MAX_VALUE_BYTES is accepted by RaftKv (docs/api.md, "Differences from etcd").
        await SameIn(new string('a', (2 * 1024 * 1024) + 100), "put", "bad/huge");
        var (etcd, raftkv) = await EtcdctlDiff.RunBothAsync(fixture, new string('a', 1600 * 1024), "put", "bad/large");
        Assert.Contains("etcdserver: request is too large", etcd.Err, StringComparison.Ordinal);
        Assert.Equal("OK\n", raftkv.Ok().Out);
        (await Etcdctl.RunAsync(fixture.RaftKv.Endpoint, "del", "bad/large")).Ok(); // and etcd's revision catches up:
        (await Etcdctl.RunAsync(fixture.Etcd.Endpoint, "put", "bad/large", "v")).Ok();
        (await Etcdctl.RunAsync(fixture.Etcd.Endpoint, "del", "bad/large")).Ok();
        await Same("get", "bad/", "--prefix", "-w", "json");

        // A dead endpoint, alone and next to a live one (the same dead port for both).
        var dead = "127.0.0.1:" + ServerProcess.FreePort().ToString(CultureInfo.InvariantCulture);
        foreach (var args in new[] { new[] { "--dial-timeout=1s", "--command-timeout=2s", "get", "bad/k" }, ["--dial-timeout=1s", "--command-timeout=2s", "endpoint", "health"], ["--dial-timeout=1s", "--command-timeout=2s", "endpoint", "status"] })
        {
            var e = await Etcdctl.RunAsync($"{dead},{fixture.Etcd.Endpoint}", args);
            var r = await Etcdctl.RunAsync($"{dead},{fixture.RaftKv.Endpoint}", args);
            Assert.Equal(e.Code, r.Code);
            var alone = await Etcdctl.RunAsync(dead, args);
            Assert.NotEqual(0, alone.Code);
        }
    }

    [Fact]
    public async Task WatchAndLockRunTheirCommandWithEtcdsEnvironment()
    {
        // Both watches start at the next revision (the same on both), so no event is missed whenever they connect.
        var next = (await Same("put", "w/start", "0", "-w", "json")).Json.GetProperty("header").GetProperty("revision").GetInt64() + 1;
        var rev = "--rev=" + next.ToString(CultureInfo.InvariantCulture);
        const string Print = "echo \"[$ETCD_WATCH_EVENT_TYPE|$ETCD_WATCH_KEY|$ETCD_WATCH_REVISION|$ETCD_WATCH_VALUE]\"";
        using var etcdWatch = Etcdctl.Spawn(fixture.Etcd.Endpoint, "watch", "w/", "--prefix", rev, "--", "sh", "-c", Print);
        using var raftkvWatch = Etcdctl.Spawn(fixture.RaftKv.Endpoint, "watch", "w/", "--prefix", rev, "--", "sh", "-c", Print);
        using var etcdInteractive = Etcdctl.SpawnWithInput(fixture.Etcd.Endpoint, "watch", "-i");
        using var raftkvInteractive = Etcdctl.SpawnWithInput(fixture.RaftKv.Endpoint, "watch", "-i");
        foreach (var p in new[] { etcdInteractive, raftkvInteractive })
        {
            await p.WriteLineAsync($"watch w/i {rev} --prev-kv");
        }

        await Same("put", "w/a", "1");
        await Same("put", "w/i", "first");
        await Same("put", "w/i", "second value");
        await Same("del", "w/a");
        await SameIn("\nput w/t1 x\nput w/t2 y\ndel w/i\n\n\n", "txn", "-i");
        const int Events = 7; // put w/a, put w/i, put w/i, del w/a, then the txn's put w/t1, put w/t2, del w/i (3 of them on w/i)
        var e = await etcdWatch.ReadUntilAsync(l => l.Count(x => x.StartsWith('[')) >= Events, Wait);
        var r = await raftkvWatch.ReadUntilAsync(l => l.Count(x => x.StartsWith('[')) >= Events, Wait);
        // etcdctl prints a response's events, then runs the command once per event: where the command's lines fall
        // between the printed events depends on how the server happened to batch events into responses (etcd
        // batches whatever is queued, so either server may send one event or two in a response). Each stream,
        // printed events and command output, must be the same in order. ETCD_WATCH_REVISION is the response header's
        // revision (etcdctl's watch command), so it too depends on the batching (CI saw etcd send w/a with w/i: 20116
        // for w/a, at 20115 on RaftKv): compared without it, then checked to lie between the event's own revision and
        // the last one.
        Assert.Equal(e.Where(x => !x.StartsWith('[')), r.Where(x => !x.StartsWith('[')));
        static string WithoutRevision(string line) => line.Split('|') is { Length: 4 } f ? $"{f[0]}|{f[1]}|{f[3]}" : line;
        var etcdRuns = e.Where(x => x.StartsWith('[')).ToList();
        var raftkvRuns = r.Where(x => x.StartsWith('[')).ToList();
        Assert.Equal(etcdRuns.Select(WithoutRevision), raftkvRuns.Select(WithoutRevision));
        long[] own = [next, next + 1, next + 2, next + 3, next + 4, next + 4, next + 4]; // the txn's three events share a revision
        foreach (var runs in new[] { etcdRuns, raftkvRuns })
        {
            for (var i = 0; i < Events; i++)
            {
                Assert.InRange(long.Parse(runs[i].Split('|')[2], CultureInfo.InvariantCulture), own[i], next + 4);
            }
        }
        Assert.Contains($"[\"DELETE\"|\"w/i\"|{next + 4}|\"\"]", r); // etcdctl quotes the values (%q)

        var ei = await etcdInteractive.ReadUntilAsync(l => l.Count(x => x is "PUT" or "DELETE") >= 3, Wait);
        var ri = await raftkvInteractive.ReadUntilAsync(l => l.Count(x => x is "PUT" or "DELETE") >= 3, Wait);
        Assert.Equal(ei, ri);
        foreach (var p in new[] { etcdInteractive, raftkvInteractive })
        {
            await p.WriteLineAsync("progress");
            await p.WriteLineAsync("bogus command"); // refused on stderr; the session goes on
        }

        var ep = await etcdInteractive.ReadUntilAsync(l => l.Any(x => x.StartsWith("progress notify:", StringComparison.Ordinal)), Wait);
        var rp = await raftkvInteractive.ReadUntilAsync(l => l.Any(x => x.StartsWith("progress notify:", StringComparison.Ordinal)), Wait);
        Assert.Equal(ep, rp);
        Assert.Contains($"progress notify: {next + 4}", rp);

        // lock with a command: ETCD_LOCK_KEY is name/<lease id in hex> (each server's own lease), ETCD_LOCK_REV its create revision.
        var lockRun = await EtcdctlDiff.AssertSameAsync(fixture, null, _ => LeaseInKey, "lock", "w/lock", "--ttl=5", "--", "sh", "-c", "echo \"$ETCD_LOCK_KEY $ETCD_LOCK_REV\"");
        Assert.Matches("^w/lock/[0-9a-f]{1,16} [0-9]+\n$", lockRun.Out);
        await Same("lock", "w/lock", "echo", "held");
        await Same("get", "w/lock", "--prefix", "-w", "json");
    }

    [Fact]
    public async Task CheckDatascaleRunsAndCheckPerfAndDatascaleRefuseAsEtcd()
    {
        await Same("put", "/chk-perf/k", "v");
        await Same("check", "perf", "--prefix=/chk-perf/");
        await Same("check", "datascale", "--prefix=/chk-perf/");
        await Same("del", "/chk-perf/k");

        // 10,000 puts of 1 KiB on each, then a delete of them all, a compaction at that revision and a defragmentation;
        // the memory figure is the server's own (process_resident_memory_bytes on its client URL).
        var run = await EtcdctlDiff.AssertSameAsync(fixture, null, _ => MemoryUsed, "check", "datascale", "--prefix=/chk-ds/", "--auto-compact", "--auto-defrag");
        Assert.Contains("PASS: Approximate system memory used", run.Out, StringComparison.Ordinal);
        await Same("get", "/chk-ds/", "--prefix", "-w", "json");

        // The URL form of the endpoint (etcd's docs use it): the /metrics URL is built from it.
        var url = await Etcdctl.RunAsync("http://" + fixture.RaftKv.Endpoint, "check", "datascale", "--prefix=/chk-ds2/", "--auto-compact");
        (await Etcdctl.RunAsync("http://" + fixture.Etcd.Endpoint, "check", "datascale", "--prefix=/chk-ds2/", "--auto-compact")).Ok();
        Assert.Contains("PASS: Approximate system memory used", url.Ok().Out, StringComparison.Ordinal);
        await Same("get", "/chk-ds2/", "--prefix", "-w", "json");
    }

    private static string LeaseInKey(string text) => LeaseKey().Replace(text, "/LEASE");

    private static string MemoryUsed(string text) => MemoryFigure().Replace(LeaseKey().Replace(ProgressBar().Replace(text, string.Empty), "/LEASE"), "N MB");

    [GeneratedRegex("/[0-9a-f]{1,16}\\b")]
    private static partial Regex LeaseKey();

    [GeneratedRegex("-?[0-9]+\\.[0-9]{2} MB")]
    private static partial Regex MemoryFigure();

    [GeneratedRegex("[^\\n]*\\r[^\\n]*")]
    private static partial Regex ProgressBar();
}
