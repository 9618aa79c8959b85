using Google.Protobuf;
using V3 = RaftKv.Protocol.Etcd;

namespace RaftKv.EndToEnd.Tests.Etcd.Differential;

/// <summary>Seeded random etcd API calls for the differential test: every Range/Put/DeleteRange/Txn option,
/// compaction, leases, and bad input. One generated call runs on both sides.</summary>
internal sealed class DiffOps(Random rng)
{
    private static readonly string[] Keys = ["a", "b", "c", "d/1", "d/2", "d/3", "e", "f"];
    private static readonly long[] LeaseIds = [101, 102, 103];

    /// <summary>The store revision (etcd's, after the last call) and the compacted one.</summary>
    public long Revision { get; set; } = 1;

    public long Compacted { get; set; }

    /// <summary>A roll of the seeded generator (0 ≤ result &lt; <paramref name="n"/>).</summary>
    public int Roll(int n) => rng.Next(n);

    private static ByteString B(string s) => ByteString.CopyFromUtf8(s);

    private string Key() => Keys[rng.Next(Keys.Length)];

    private bool Chance(int percent) => rng.Next(100) < percent;

    /// <summary>A key and range_end in one of etcd's forms: single, [key, end) (maybe backwards), prefix, from-key, all.</summary>
    private (ByteString Key, ByteString End, string Text) Span(bool fromKey = true)
    {
        var key = Key();
        var other = Key();
        return rng.Next(fromKey ? 6 : 4) switch
        {
            0 or 1 => (B(key), ByteString.Empty, key),
            2 => (B(key), B(other), $"[{key}, {other})"),
            3 => (B("d/"), B("d0"), "prefix d/"),
            4 => (B(key), ByteString.CopyFrom(0), $"{key}.. (\\0)"),
            _ => (ByteString.CopyFrom(0), ByteString.CopyFrom(0), "all (\\0 \\0)"),
        };
    }

    private long SomeRevision() => rng.Next(10) switch
    {
        < 6 => 0,
        < 8 => Math.Max(Compacted, 1) + rng.NextInt64(Math.Max(1, Revision - Math.Max(Compacted, 1) + 1)),
        8 => Revision + 1 + rng.Next(3),
        _ => Compacted > 1 ? Compacted - 1 : 0,
    };

    public V3.RangeRequest Range()
    {
        var (key, end, _) = Span();
        return new V3.RangeRequest
        {
            Key = key,
            RangeEnd = end,
            Limit = new long[] { 0, 0, 1, 2, -1 }[rng.Next(5)],
            Revision = SomeRevision(),
            SortOrder = (V3.RangeRequest.Types.SortOrder)rng.Next(3),
            SortTarget = (V3.RangeRequest.Types.SortTarget)(Chance(50) ? 0 : rng.Next(5)),
            Serializable = Chance(20),
            KeysOnly = Chance(15),
            CountOnly = Chance(10),
            MinModRevision = Chance(15) ? rng.NextInt64(Revision + 1) : 0,
            MaxModRevision = Chance(10) ? rng.NextInt64(Revision + 1) : 0,
            MinCreateRevision = Chance(10) ? rng.NextInt64(Revision + 1) : 0,
            MaxCreateRevision = Chance(15) ? rng.NextInt64(Revision + 1) : 0,
        };
    }

    /// <summary>Value number <paramref name="n"/>; every fifth is padded past 4 KiB, the size from which RaftKv keeps a
    /// value once (MVCC layout 3), so puts, prev_kv, ranges, value compares and the hash cover both layouts.</summary>
    private static string Value(int n) => n % 5 == 0 ? $"v{n}-" + new string('x', 4200) : $"v{n}";

    public V3.PutRequest Put(string? key = null) => new()
    {
        Key = B(key ?? Key()),
        Value = B(Value(rng.Next(1000))),
        PrevKv = Chance(30),
        Lease = Chance(15) ? LeaseIds[rng.Next(LeaseIds.Length)] : Chance(3) ? 999 : 0,
        IgnoreValue = Chance(7),
        IgnoreLease = Chance(7),
    };

    /// <summary>A DeleteRange (its range_end maybe at or before the key: etcd deletes nothing); inside a txn without the
    /// "\0" range_end forms: etcd 3.4's duplicate-key check takes "\0" literally (an empty interval) and lets such a
    /// delete cover a key the txn puts, which RaftKv refuses (docs/api.md, "Differences from etcd").</summary>
    public V3.DeleteRangeRequest Delete(bool inTxn = false)
    {
        var (key, end, _) = Span(!inTxn);
        return new V3.DeleteRangeRequest { Key = key, RangeEnd = end, PrevKv = Chance(50) };
    }

    public V3.Compare Compare()
    {
        var c = new V3.Compare { Key = B(Key()), Result = (V3.Compare.Types.CompareResult)rng.Next(4), Target = (V3.Compare.Types.CompareTarget)rng.Next(5) };
        if (Chance(20))
        {
            // A prefix, from-key, or [key, other) which may be at or below the key (etcd then compares over no key).
            c.RangeEnd = rng.Next(3) switch { 0 => B("d0"), 1 => ByteString.CopyFrom(0), _ => B(Key()) };
            c.Key = c.RangeEnd.Equals(B("d0")) || Chance(50) ? B("d/") : c.Key;
        }

        switch (c.Target)
        {
            case V3.Compare.Types.CompareTarget.Version: c.Version = rng.Next(4); break;
            case V3.Compare.Types.CompareTarget.Create: c.CreateRevision = rng.NextInt64(Revision + 1); break;
            case V3.Compare.Types.CompareTarget.Mod: c.ModRevision = rng.NextInt64(Revision + 1); break;
            case V3.Compare.Types.CompareTarget.Value: c.Value = B(Value(rng.Next(1000))); break;
            default: c.Lease = Chance(50) ? 0 : LeaseIds[rng.Next(LeaseIds.Length)]; break;
        }

        return c;
    }

    public V3.TxnRequest Txn(int depth = 0)
    {
        var t = new V3.TxnRequest();
        for (var i = rng.Next(3); i > 0; i--)
        {
            t.Compare.Add(Compare());
        }

        foreach (var branch in new[] { t.Success, t.Failure })
        {
            for (var i = rng.Next(3); i > 0; i--)
            {
                branch.Add(rng.Next(depth < 1 ? 5 : 4) switch
                {
                    0 => new V3.RequestOp { RequestPut = Put() },
                    1 => new V3.RequestOp { RequestRange = Range() },
                    2 => new V3.RequestOp { RequestDeleteRange = Delete(inTxn: true) },
                    3 => new V3.RequestOp { RequestPut = Put() },
                    _ => new V3.RequestOp { RequestTxn = Txn(depth + 1) },
                });
            }
        }

        return t;
    }

    /// <summary>A HashKV at the current revision, a past one (maybe compacted) or a future one.</summary>
    public V3.HashKVRequest HashKv() => new() { Revision = rng.Next(4) == 0 ? SomeRevision() : 0 };

    public V3.CompactionRequest Compact() => new()
    {
        Revision = rng.Next(5) == 0 ? Math.Max(1, Compacted) : Math.Max(Compacted, 1) + rng.NextInt64(Math.Max(1, Revision - Compacted + 1)),
        Physical = Chance(50),
    };

    public V3.LeaseGrantRequest Grant() => new() { ID = LeaseIds[rng.Next(LeaseIds.Length)], TTL = Chance(5) ? 9_000_000_001 : 600 + rng.Next(100) };

    public long LeaseId() => Chance(85) ? LeaseIds[rng.Next(LeaseIds.Length)] : 999;

    /// <summary>A transaction with too many ops (etcd's default limit is 128), or a duplicate key.</summary>
    public V3.TxnRequest BadTxn()
    {
        var t = new V3.TxnRequest();
        if (Chance(50))
        {
            for (var i = 0; i < 129; i++)
            {
                t.Success.Add(new V3.RequestOp { RequestPut = new V3.PutRequest { Key = B($"many/{i}"), Value = B("x") } });
            }
        }
        else
        {
            var key = Key();
            t.Success.Add(new V3.RequestOp { RequestPut = Put(key) });
            t.Success.Add(Chance(50) ? new V3.RequestOp { RequestPut = Put(key) } : new V3.RequestOp { RequestDeleteRange = new V3.DeleteRangeRequest { Key = B(key) } });
        }

        return t;
    }

    public static string Text(IMessage m) => m.GetType().Name + " " + JsonFormatter.Default.Format(m) is { Length: > 4000 } s ? s[..4000] + "…" : m.GetType().Name + " " + JsonFormatter.Default.Format(m);

    /// <summary>Not a protobuf message (an unterminated varint tag, then garbage).</summary>
    public static byte[] Malformed => [0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x01, 0x0A, 0x7F];
}
