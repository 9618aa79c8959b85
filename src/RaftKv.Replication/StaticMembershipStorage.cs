using System.Net;
using DotNext.Buffers;
using DotNext.Net;
using DotNext.Net.Cluster.Consensus.Raft.Membership;

namespace RaftKv.Replication;

/// <summary>
/// In-memory cluster configuration seeded from the static bootstrap peer list (PEERS). Membership
/// changes made at run time are replicated through the Raft log by DotNext; after a restart the node
/// starts again from PEERS, so operators keep PEERS equal to the current membership.
/// </summary>
internal sealed class StaticMembershipStorage : InMemoryClusterConfigurationStorage<EndPoint>
{
    protected override void Encode(EndPoint address, ref BufferWriterSlim<byte> output)
        => EndPointFormatter.WriteEndPoint(ref output, address);

    protected override EndPoint Decode(ref SequenceReader reader)
        => EndPointFormatter.ReadEndPoint(ref reader);
}
