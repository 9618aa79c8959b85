using System.Net;
using DotNext.Buffers;
using DotNext.Buffers.Binary;
using DotNext.Net;
using DotNext.Net.Cluster.Consensus.Raft.Membership;

namespace RaftKv.Replication;

/// <summary>
/// Cluster membership persisted in <c>{DataDir}/membership</c> (DotNext's
/// <see cref="PersistentClusterConfigurationStorage{TAddress}"/>: 8-byte little-endian configuration
/// version, then an int32 member count and each member's Raft endpoint; replaced by write-temp + fsync +
/// rename). The static peer list (PEERS) only bootstraps it on a node's first start, like etcd's
/// <c>--initial-cluster</c>: after that, members added or removed at run time (committed through the
/// Raft log, which hands each configuration to this storage) survive restarts, and PEERS is ignored.
/// </summary>
internal sealed class FileMembershipStorage(string path) : PersistentClusterConfigurationStorage<EndPoint>(path)
{
    public string Path { get; } = path;

    /// <summary>
    /// Writes the bootstrap configuration (version 0) unless a persisted one exists, or always when
    /// <paramref name="overwrite"/> is set (membership rebuilt from PEERS at every start).
    /// </summary>
    /// <returns>True when the bootstrap list was written.</returns>
    public async Task<bool> BootstrapAsync(IReadOnlyCollection<EndPoint> members, bool overwrite, CancellationToken cancellationToken)
    {
        if (File.Exists(Path))
        {
            if (!overwrite)
            {
                return false;
            }

            File.Delete(Path);
        }

        return await SaveConfigurationAsync(Serialize(members), 0L, cancellationToken).ConfigureAwait(false);
    }

    private byte[] Serialize(IReadOnlyCollection<EndPoint> members)
    {
        var writer = new BufferWriterSlim<byte>(1024);
        try
        {
            ByteBuffer.WriteLittleEndian(ref writer, members.Count);
            foreach (var member in members)
            {
                Encode(member, ref writer);
            }

            return writer.WrittenSpan.ToArray();
        }
        finally
        {
            writer.Dispose();
        }
    }

    protected override void Encode(EndPoint address, ref BufferWriterSlim<byte> output)
        => EndPointFormatter.WriteEndPoint(ref output, address);

    protected override EndPoint Decode(ref SequenceReader reader)
        => EndPointFormatter.ReadEndPoint(ref reader);
}
