using RaftKv.Protocol.V1;
using RaftKv.Replication.Api;

namespace RaftKv.Server.Grpc;

/// <summary>
/// The <see cref="ResponseHeader"/> of every raftkv.v1 reply (Kv, Cluster, Admin): the answering member's id,
/// term and applied index, the leader's gRPC endpoint, and a store revision.
/// </summary>
public static class NativeHeader
{
    /// <summary>The header for a reply of <paramref name="node"/>.</summary>
    /// <param name="node">The answering member.</param>
    /// <param name="revision">The revision the reply is about (a read's or a write's); 0: the member's current
    /// revision, read BEFORE the term and applied index, so the header never claims a revision that the
    /// applied index reported with it does not already include. A membership change's header is built after
    /// the change committed, so its term and applied index include it.</param>
    public static ResponseHeader For(IKvNode node, long revision = 0)
    {
        var current = revision > 0 ? revision : node.Revision;
        var (term, applied, leader) = node.HeaderInfo();
        return new ResponseHeader { NodeId = (ulong)node.NodeId, Term = (ulong)term, AppliedIndex = (ulong)applied, Leader = leader, Revision = (ulong)current };
    }
}
