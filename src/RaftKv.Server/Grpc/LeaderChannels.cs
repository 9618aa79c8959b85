using System.Collections.Concurrent;
using Grpc.Core;
using Grpc.Net.Client;
using RaftKv.Protocol.V1;
using RaftKv.Replication.Api;

namespace RaftKv.Server.Grpc;

/// <summary>Forwards gRPC writes from a follower to the leader (one hop; a forwarded call carries
/// <see cref="ForwardedHeader"/> and is never forwarded again).</summary>
public sealed class LeaderChannels(IKvNode node) : IDisposable
{
    public const string ForwardedHeader = "raftkv-forwarded";

    private readonly ConcurrentDictionary<string, GrpcChannel> _channels = new(StringComparer.Ordinal);

    /// <summary>The leader's client when this node must forward; null when it is the leader itself.
    /// Throws <see cref="NotLeaderException"/> when forwarding is impossible (unknown leader, or already forwarded).</summary>
    public KV.KVClient? ForwardTarget(ServerCallContext context)
    {
        if (node.IsLeader)
        {
            return null;
        }

        var status = node.GetStatus();
        if (context.RequestHeaders.Get(ForwardedHeader) is not null || status.Leader is not { GrpcAddress.Length: > 0 } leader)
        {
            throw new NotLeaderException(status.Leader);
        }

        var channel = _channels.GetOrAdd(leader.GrpcAddress, a => GrpcChannel.ForAddress("http://" + a));
        return new KV.KVClient(channel);
    }

    public static CallOptions Options(ServerCallContext context)
        => new(new Metadata { { ForwardedHeader, "1" } }, context.Deadline, context.CancellationToken);

    public void Dispose()
    {
        foreach (var c in _channels.Values)
        {
            c.Dispose();
        }
    }
}
