namespace RaftKv.Replication.Api;

/// <summary>A cluster member as published in DotNext member metadata, or a learner from the replicated learner list.</summary>
/// <param name="Id">Node id (NODE_ID).</param>
/// <param name="RaftAddress">host:port of the Raft TCP transport.</param>
/// <param name="GrpcAddress">host:port of the gRPC endpoint, or empty if unknown.</param>
/// <param name="HttpAddress">host:port of the HTTP API, or empty if unknown.</param>
/// <param name="IsLeader">Whether this member is the current leader as this node sees it.</param>
/// <param name="IsLocal">Whether this member is the node answering.</param>
/// <param name="Available">Whether this node currently considers it reachable.</param>
/// <param name="IsLearner">An application-level learner (docs/architecture.md, "Learners"): receives the log, does not vote.</param>
public sealed record MemberInfo(long Id, string RaftAddress, string GrpcAddress, string HttpAddress, bool IsLeader, bool IsLocal, bool Available, bool IsLearner = false)
{
    /// <summary>The smallest provisional id: a member added by its Raft address is listed under an id in [2^62, 2^63)
    /// derived from that address until it connects and says its NODE_ID (NODE_IDs are far smaller).</summary>
    public const long ProvisionalIdFloor = 0x4000_0000_0000_0000;

    /// <summary>Listed under a provisional id: added by its Raft address and not connected yet — a learner, or a voter
    /// added before it started (etcd's "unstarted" member; KvNode.PendingVoters.cs).</summary>
    public bool IsProvisional => Id >= ProvisionalIdFloor;

    /// <summary>The provisional id of a member added by <paramref name="raftAddress"/> (etcd assigns ids at add, so a member
    /// never started can still be removed): from the address, in [2^62, 2^63), far above NODE_IDs. Deterministic, so the id
    /// printed at add still names the member after it connected and is listed under its NODE_ID.</summary>
    public static long ProvisionalIdOf(string raftAddress)
    {
        ArgumentNullException.ThrowIfNull(raftAddress);
        var hash = System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(raftAddress.ToUpperInvariant()));
        return (long)((System.Buffers.Binary.BinaryPrimitives.ReadUInt64BigEndian(hash) & 0x3FFF_FFFF_FFFF_FFFFUL) | (ulong)ProvisionalIdFloor);
    }
}
