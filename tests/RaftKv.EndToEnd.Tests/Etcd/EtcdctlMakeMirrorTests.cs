using Google.Protobuf;
using RaftKv.EndToEnd.Tests.Etcd.Differential;
using V3 = RaftKv.Protocol.Etcd;

namespace RaftKv.EndToEnd.Tests.Etcd;

/// <summary>
/// <c>etcdctl make-mirror</c> (etcd 3.4's mirror: the prefix's keys read at one revision in pages of 1,000, then a
/// watch from the next revision, each source revision replayed as one txn on the destination) with RaftKv as source
/// and as destination, and with a real etcd on the other end: <c>--prefix</c>, <c>--dest-prefix</c>,
/// <c>--no-dest-prefix</c>; the destination ends up with the source's keys and values, under the new prefix, after
/// existing keys (more than one page) and live puts, deletes, range deletes and multi-key txns.
/// </summary>
public sealed class EtcdctlMakeMirrorTests(MakeMirrorFixture fixture) : IClassFixture<MakeMirrorFixture>
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(90);

    [Fact]
    public Task RaftKvToRaftKvUnderADestPrefix() => MirrorAsync(fixture.Source, fixture.Destination, "m1/", ["--dest-prefix=copy1/"], "copy1/", existing: 1_100);

    [Fact]
    public Task RaftKvToEtcdWithoutDestPrefix() => MirrorAsync(fixture.Source, fixture.Etcd, "m2/", ["--no-dest-prefix"], string.Empty, existing: 120, stem: "n2-");

    [Fact]
    public Task EtcdToRaftKvUnderTheSamePrefix() => MirrorAsync(fixture.Etcd, fixture.Source, "m3/", [], "m3/", existing: 1_005);

    [Fact]
    public async Task ConflictingPrefixFlagsAndAMissingDestinationAreRefusedAsByEtcd()
    {
        var both = await Etcdctl.RunAsync(fixture.Source.Endpoint, "make-mirror", "--dest-prefix=x/", "--no-dest-prefix", fixture.Destination.Endpoint);
        Assert.NotEqual(0, both.Code);
        Assert.Contains("`--dest-prefix` and `--no-dest-prefix` cannot be set at the same time", both.Err, StringComparison.Ordinal);
        var none = await Etcdctl.RunAsync(fixture.Source.Endpoint, "make-mirror");
        Assert.NotEqual(0, none.Code);
        Assert.Contains("make-mirror takes one destination argument", none.Err, StringComparison.Ordinal);
    }

    /// <summary>Puts <paramref name="existing"/> keys under <paramref name="prefix"/> + <paramref name="stem"/> at the source (and
    /// one key beside the prefix), starts make-mirror, waits until the destination holds them under <paramref name="destPrefix"/>
    /// + <paramref name="stem"/>, then changes the source while it runs and waits until the destination holds exactly the
    /// source's keys and values again (the stem keeps a test's keys apart at a destination without a prefix).</summary>
    private static async Task MirrorAsync(DiffSide source, DiffSide destination, string prefix, string[] flags, string destPrefix, int existing, string stem = "")
    {
        var from = prefix;
        prefix += stem;
        destPrefix += stem;
        var value = ByteString.CopyFromUtf8(new string('v', 100));
        for (var i = 0; i < existing; i++)
        {
            await source.Kv.PutAsync(new V3.PutRequest { Key = Key(prefix + i.ToString("D5", System.Globalization.CultureInfo.InvariantCulture)), Value = value }, deadline: Deadline());
        }

        await source.Kv.PutAsync(new V3.PutRequest { Key = Key(from.TrimEnd('/') + "-beside"), Value = value }, deadline: Deadline());
        using var mirror = Etcdctl.Spawn(source.Endpoint, ["make-mirror", "--prefix=" + from, .. flags, destination.Endpoint]);
        await UntilSameAsync(source, destination, prefix, destPrefix, mirror);

        // Live: a put, an overwrite, a delete, a range delete, a txn of several puts and deletes (one revision), a put
        // with a lease (mirrored without it), a delete of a key that does not exist.
        await source.Kv.PutAsync(new V3.PutRequest { Key = Key(prefix + "live"), Value = ByteString.CopyFromUtf8("1") }, deadline: Deadline());
        await source.Kv.PutAsync(new V3.PutRequest { Key = Key(prefix + "00001"), Value = ByteString.CopyFromUtf8("changed") }, deadline: Deadline());
        await source.Kv.DeleteRangeAsync(new V3.DeleteRangeRequest { Key = Key(prefix + "00002") }, deadline: Deadline());
        await source.Kv.DeleteRangeAsync(new V3.DeleteRangeRequest { Key = Key(prefix + "00010"), RangeEnd = Key(prefix + "00020") }, deadline: Deadline());
        await source.Kv.TxnAsync(new V3.TxnRequest
        {
            Success =
            {
                new V3.RequestOp { RequestPut = new V3.PutRequest { Key = Key(prefix + "txn-a"), Value = ByteString.CopyFromUtf8("a") } },
                new V3.RequestOp { RequestPut = new V3.PutRequest { Key = Key(prefix + "txn-b"), Value = ByteString.CopyFromUtf8("b") } },
                new V3.RequestOp { RequestDeleteRange = new V3.DeleteRangeRequest { Key = Key(prefix + "00003") } },
                new V3.RequestOp { RequestPut = new V3.PutRequest { Key = Key(prefix + "00004"), Value = ByteString.CopyFromUtf8("in txn") } },
            },
        }, deadline: Deadline());
        var lease = await source.Lease.LeaseGrantAsync(new V3.LeaseGrantRequest { TTL = 600 }, deadline: Deadline());
        await source.Kv.PutAsync(new V3.PutRequest { Key = Key(prefix + "leased"), Value = ByteString.CopyFromUtf8("l"), Lease = lease.ID }, deadline: Deadline());
        await source.Kv.DeleteRangeAsync(new V3.DeleteRangeRequest { Key = Key(prefix + "never-there") }, deadline: Deadline());
        await source.Kv.PutAsync(new V3.PutRequest { Key = Key(prefix + "zz-last"), Value = ByteString.CopyFromUtf8("last") }, deadline: Deadline());
        await UntilSameAsync(source, destination, prefix, destPrefix, mirror);

        var leased = await destination.Kv.RangeAsync(new V3.RangeRequest { Key = Key(destPrefix + "leased") }, deadline: Deadline());
        Assert.Equal(0, Assert.Single(leased.Kvs).Lease);
        var beside = await destination.Kv.RangeAsync(new V3.RangeRequest { Key = Key(destPrefix[..^stem.Length] + from.TrimEnd('/') + "-beside") }, deadline: Deadline());
        Assert.Empty(beside.Kvs);
        await source.Lease.LeaseRevokeAsync(new V3.LeaseRevokeRequest { ID = lease.ID }, deadline: Deadline());
    }

    /// <summary>Waits until the destination's keys under <paramref name="destPrefix"/> are the source's under
    /// <paramref name="prefix"/>, renamed, with the same values.</summary>
    private static async Task UntilSameAsync(DiffSide source, DiffSide destination, string prefix, string destPrefix, EtcdctlProcess mirror)
    {
        var deadline = DateTime.UtcNow + Wait;
        string expected = string.Empty, actual = string.Empty;
        while (DateTime.UtcNow < deadline)
        {
            expected = await ContentAsync(source, prefix, destPrefix);
            actual = await ContentAsync(destination, destPrefix, destPrefix);
            if (expected == actual)
            {
                return;
            }

            await Task.Delay(Poll.Interval);
        }

        Assert.Fail($"make-mirror did not bring {destination.Name} to {source.Name}'s keys under {prefix} in {Wait.TotalSeconds} s\nexpected:\n{Tail(expected)}\nactual:\n{Tail(actual)}\nmake-mirror stderr: {mirror.Stderr}");
    }

    /// <summary>"key=value" lines of the keys under <paramref name="prefix"/> (not empty), the prefix replaced by <paramref name="as"/>.</summary>
    private static async Task<string> ContentAsync(DiffSide side, string prefix, string @as)
    {
        var request = new V3.RangeRequest { Key = Key(prefix), RangeEnd = Key(prefix[..^1] + (char)(prefix[^1] + 1)) };
        var range = await side.Kv.RangeAsync(request, deadline: Deadline());
        return string.Join('\n', range.Kvs.Select(kv => @as + kv.Key.ToStringUtf8()[prefix.Length..] + "=" + kv.Value.ToStringUtf8()));
    }

    private static string Tail(string text) => text.Length > 2000 ? "…" + text[^2000..] : text;

    private static ByteString Key(string key) => ByteString.CopyFromUtf8(key);

    private static DateTime Deadline() => DateTime.UtcNow.AddSeconds(20);
}
