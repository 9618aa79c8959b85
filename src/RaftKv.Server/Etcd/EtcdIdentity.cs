using System.Buffers.Binary;
using System.Security.Cryptography;
using RaftKv.Protocol.Etcd;
using RaftKv.Replication.Api;
using RaftKv.Server.Configuration;

namespace RaftKv.Server.Etcd;

/// <summary>
/// How RaftKv appears as an etcd cluster: the ids in every <see cref="ResponseHeader"/> and in
/// <c>MemberList</c>, and the header itself.
/// </summary>
/// <remarks>
/// <para><b>Member id</b> = the node's <c>NODE_ID</c> (<see cref="MemberId"/>; etcdctl prints it in hex).
/// The mapping is the identity so that <c>MemberRemove</c> and <c>Status.leader</c> need no lookup table
/// and every member computes the same id for every other member.</para>
/// <para><b>Cluster id</b> is derived as etcd derives it, from the initial members' ids: SHA-1 over the
/// ids sorted ascending, each as 8 big-endian bytes, first 8 bytes of the digest big-endian. The
/// initial members are the ids in <c>PEERS</c> (a single node without peers: its own id), which the
/// documented deployments give identically to every member, so every member answers the same id.
/// A member added later with a different <c>PEERS</c> list would compute another id; give it the
/// original list. A cluster built by <c>raftkv restore</c> has a new id, kept in <c>{DATA_DIR}/cluster-id</c>
/// (<see cref="Replication.Backup.ClusterIdFile"/>).</para>
/// </remarks>
public sealed class EtcdIdentity
{
    private readonly IKvNode _node;

    /// <summary>The schemes of the members' URLs: this node's own TLS settings (a cluster's members share them), so
    /// that etcdctl's <c>--cluster</c> commands, which dial the listed client URLs, speak TLS to TLS ports as with etcd.</summary>
    private readonly string _clientScheme, _peerScheme;

    public EtcdIdentity(IKvNode node, ServerConfig config)
    {
        _node = node;
        _clientScheme = config.Tls.ClientTls ? "https://" : "http://";
        _peerScheme = config.Tls.PeerTls ? "https://" : "http://";
        ClusterId = Replication.Backup.ClusterIdFile.TryRead(config.DataDir) // a restored cluster's new id
            ?? ClusterIdOf(config.Peers.Count > 0 ? config.Peers.Keys : [config.NodeId]);
        LocalMemberId = MemberId(node.NodeId);
    }

    public ulong ClusterId { get; }

    public ulong LocalMemberId { get; }

    /// <summary>NODE_ID → etcd member id (the identity; ids are ≥ 1).</summary>
    public static ulong MemberId(long nodeId) => (ulong)nodeId;

    /// <summary>etcd member id → NODE_ID, or null if it cannot be one.</summary>
    public static long? NodeIdOf(ulong memberId) => memberId is > 0 and <= long.MaxValue ? (long)memberId : null;

    public static ulong ClusterIdOf(IEnumerable<long> memberIds)
    {
        var ids = memberIds.Select(MemberId).Order().ToArray();
        var bytes = new byte[8 * ids.Length];
        for (var i = 0; i < ids.Length; i++)
        {
            BinaryPrimitives.WriteUInt64BigEndian(bytes.AsSpan(8 * i), ids[i]);
        }

        return BinaryPrimitives.ReadUInt64BigEndian(SHA1.HashData(bytes));
    }

    /// <summary>The header of an answer that reflects store revision <paramref name="revision"/>
    /// (0 for calls that do not touch the key space).</summary>
    public ResponseHeader Header(long revision) => new()
    {
        ClusterId = ClusterId,
        MemberId = LocalMemberId,
        Revision = revision,
        RaftTerm = (ulong)_node.HeaderInfo().Term,
    };

    /// <summary>A member as etcd's <c>Member</c>: name <c>raftkv-{id}</c>, peer URL = its Raft address,
    /// client URL = its gRPC address (which serves the etcd API). A member not started yet — a learner, or a voter
    /// added before it started (listed under its provisional id), without a client URL — has no name: etcdctl's
    /// "unstarted".</summary>
    public Member ToMember(MemberInfo m)
    {
        var member = new Member { ID = MemberId(m.Id), Name = m.Id > 0 && !((m.IsLearner || m.IsProvisional) && m.GrpcAddress.Length == 0) ? $"raftkv-{m.Id}" : string.Empty, IsLearner = m.IsLearner }; // empty name: etcdctl's "unstarted"
        if (m.RaftAddress.Length > 0)
        {
            member.PeerURLs.Add(_peerScheme + m.RaftAddress);
        }

        if (m.GrpcAddress.Length > 0)
        {
            member.ClientURLs.Add(_clientScheme + m.GrpcAddress);
        }

        return member;
    }
}
