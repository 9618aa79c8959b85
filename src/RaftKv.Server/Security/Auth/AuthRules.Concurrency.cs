using Google.Protobuf;
using RaftKv.Server.Etcd.Concurrency;
using V3Election = RaftKv.Protocol.Etcd.V3Election;

namespace RaftKv.Server.Security.Auth;

public static partial class AuthRules
{
    /// <summary>What etcd's Lock and Campaign touch through its own KV calls (each checked with the caller's token in
    /// etcd): read of the name's prefix (the owner, the keys waited for) and write of the caller's key
    /// name/&lt;lease hex&gt;; with lease 0 the key is not known before the call grants a lease: write of the prefix.</summary>
    private static KeyAccess[] Candidate(ByteString name, long lease)
    {
        var prefix = ConcurrencyKv.PrefixOf(name.Span);
        var end = ConcurrencyKv.PrefixEnd(prefix);
        return
        [
            KeyAccess.Read(prefix, end),
            lease == 0 ? KeyAccess.ToWrite(prefix, end) : KeyAccess.ToWrite(ConcurrencyKv.KeyOf(prefix, lease)),
        ];
    }

    /// <summary>Proclaim and Resign: a txn comparing (read) and writing the leader key.</summary>
    private static KeyAccess[] LeaderKey(V3Election.LeaderKey leader)
        => [KeyAccess.Read(leader.Key.ToByteArray()), KeyAccess.ToWrite(leader.Key.ToByteArray())];

    /// <summary>Leader and Observe: reads (and watches) of the election's prefix.</summary>
    private static KeyAccess Election(ByteString name)
    {
        var prefix = ConcurrencyKv.PrefixOf(name.Span);
        return KeyAccess.Read(prefix, ConcurrencyKv.PrefixEnd(prefix));
    }
}
