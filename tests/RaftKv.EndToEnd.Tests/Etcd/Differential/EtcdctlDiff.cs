using System.Globalization;
using System.Text.RegularExpressions;

namespace RaftKv.EndToEnd.Tests.Etcd.Differential;

/// <summary>
/// Runs one etcdctl 3.4 command line against the real etcd and against RaftKv of a <see cref="DiffFixture"/> and
/// gives each outcome in a normal form both must print identically: the exit code, stdout without the response
/// headers' cluster id, member id and raft term, and stderr with etcdctl's client log lines reduced to the gRPC error
/// they carry (their timestamps and client ids differ by nature) and the endpoint written <c>EP</c>.
/// </summary>
internal static partial class EtcdctlDiff
{
    /// <summary>Runs <paramref name="args"/> on etcd, then on RaftKv (same stdin), in that order.</summary>
    public static async Task<(EtcdctlResult Etcd, EtcdctlResult RaftKv)> RunBothAsync(DiffFixture f, string? stdin, params string[] args)
    {
        var etcd = await Etcdctl.RunWithInputAsync(f.Etcd.Endpoint, stdin, args);
        var raftkv = await Etcdctl.RunWithInputAsync(f.RaftKv.Endpoint, stdin, args);
        return (etcd, raftkv);
    }

    /// <summary>Runs the command on both and fails unless both outcomes are the same in <see cref="Normal"/> form
    /// (after <paramref name="also"/>, an extra normalization, per side, of values that differ by nature); returns RaftKv's.</summary>
    public static async Task<EtcdctlResult> AssertSameAsync(DiffFixture f, string? stdin, Func<DiffSide, Func<string, string>>? also, params string[] args)
    {
        var (etcd, raftkv) = await RunBothAsync(f, stdin, args);
        var e = Normal(etcd, f.Etcd.Endpoint, also?.Invoke(f.Etcd));
        var r = Normal(raftkv, f.RaftKv.Endpoint, also?.Invoke(f.RaftKv));
        Assert.True(e == r, $"etcdctl {string.Join(' ', args)} differs\n--- etcd:\n{e}\n--- raftkv:\n{r}\n--- raw etcd:\n{etcd}\n--- raw raftkv:\n{raftkv}");
        return raftkv;
    }

    public static Task<EtcdctlResult> AssertSameAsync(DiffFixture f, params string[] args) => AssertSameAsync(f, null, null, args);

    /// <summary>As <see cref="AssertSameAsync(DiffFixture, string?, Func{DiffSide, Func{string, string}}?, string[])"/>, with
    /// each side's own arguments (an id only that server has).</summary>
    public static async Task<EtcdctlResult> AssertSamePerSideAsync(DiffFixture f, Func<DiffSide, string[]> args, Func<DiffSide, Func<string, string>>? also)
    {
        var etcd = await Etcdctl.RunAsync(f.Etcd.Endpoint, args(f.Etcd));
        var raftkv = await Etcdctl.RunAsync(f.RaftKv.Endpoint, args(f.RaftKv));
        var e = Normal(etcd, f.Etcd.Endpoint, also?.Invoke(f.Etcd));
        var r = Normal(raftkv, f.RaftKv.Endpoint, also?.Invoke(f.RaftKv));
        Assert.True(e == r, $"etcdctl {string.Join(' ', args(f.RaftKv))} differs\n--- etcd:\n{e}\n--- raftkv:\n{r}");
        return raftkv;
    }

    /// <summary>The normal form of one outcome (see the class summary).</summary>
    public static string Normal(EtcdctlResult r, string endpoint, Func<string, string>? also = null)
    {
        var output = HeaderJson().Replace(r.Out, string.Empty).Replace(",}", "}", StringComparison.Ordinal);
        output = HeaderFields().Replace(output, "\"$1\" : X");
        var err = string.Join('\n', r.Err.Split('\n').Select(line =>
        {
            if (!line.StartsWith("{\"level\":", StringComparison.Ordinal))
            {
                return line;
            }

            var m = LogError().Match(line);
            return m.Success ? "log: " + m.Groups[1].Value : null;
        }).Where(l => l is not null));
        err = PanicAddress().Replace(err, "0xN");
        var text = $"exit {r.Code}\nstdout:\n{output}\nstderr:\n{err}".Replace(endpoint, "EP", StringComparison.Ordinal);
        return also is null ? text : also(text);
    }

    /// <summary>For outputs that name the server itself (member list, endpoint status/health/hashkv, lease ids):
    /// every number is N, runs of spaces and dashes are one (table column widths follow the content), and the
    /// given identity strings (member name, peer and client URLs, version) are replaced by their role.</summary>
    public static Func<string, string> Shape(IReadOnlyDictionary<string, string> identity) => text =>
    {
        foreach (var (value, role) in identity.OrderByDescending(kv => kv.Key.Length))
        {
            text = text.Replace(value, role, StringComparison.Ordinal);
        }

        text = HexId().Replace(text, "N");
        text = Number().Replace(text, "N");
        return Padding().Replace(text, " ");
    };

    /// <summary>The strings by which a side names itself: member name, peer URL, client URL and server version
    /// (its member and cluster ids are numbers, which <see cref="Shape"/> makes N anyway).</summary>
    public static async Task<IReadOnlyDictionary<string, string>> IdentityAsync(DiffSide side)
    {
        var list = (await Etcdctl.RunAsync(side.Endpoint, "member", "list", "-w", "json")).Ok().Json;
        var member = list.GetProperty("members")[0];
        var status = (await Etcdctl.RunAsync(side.Endpoint, "endpoint", "status", "-w", "json")).Ok().Json[0].GetProperty("Status");
        return new Dictionary<string, string>
        {
            [member.GetProperty("name").GetString()!] = "NAME",
            [member.GetProperty("peerURLs")[0].GetString()!] = "PEER",
            [member.GetProperty("clientURLs")[0].GetString()!] = "CLIENT",
            [status.GetProperty("version").GetString()!] = "VERSION",
        };
    }

    /// <summary>A side's own member id in hex, as etcdctl takes it (move-leader, member update).</summary>
    public static async Task<string> MemberIdAsync(DiffSide side) =>
        (await Etcdctl.RunAsync(side.Endpoint, "member", "list", "-w", "json")).Ok().Json.GetProperty("header").GetProperty("member_id").GetUInt64().ToString("x", CultureInfo.InvariantCulture);

    [GeneratedRegex("\"(?:cluster_id|member_id|raft_term)\":[0-9]+,?")]
    private static partial Regex HeaderJson();

    [GeneratedRegex("\"(ClusterID|MemberID|RaftTerm)\" : [0-9]+")]
    private static partial Regex HeaderFields();

    [GeneratedRegex("\"error\":\"((?:[^\"\\\\]|\\\\.)*)\"")]
    private static partial Regex LogError();

    [GeneratedRegex("0x[0-9a-f]+")]
    private static partial Regex PanicAddress();

    [GeneratedRegex("\\b(?=[0-9a-f]*[a-f])[0-9a-f]{5,16}\\b")]
    private static partial Regex HexId();

    [GeneratedRegex("[0-9]+(?:\\.[0-9]+)?(?:ms|µs|s| kB| MB| B)?")]
    private static partial Regex Number();

    [GeneratedRegex("[ -]{2,}")]
    private static partial Regex Padding();
}
