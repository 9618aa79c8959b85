using Google.Protobuf;
using Grpc.Core;
using RaftKv.Replication.Api;
using RaftKv.Server.Etcd.Concurrency;
using RaftKv.Server.Pipeline;
using V3Lock = RaftKv.Protocol.Etcd.V3Lock;

namespace RaftKv.Server.Etcd;

/// <summary>
/// etcd's v3lockpb.Lock (docs/api.md, "Lock and Election"): a thin front over <see cref="EtcdMutex"/>. Lock runs on
/// the member called, as etcd's v3lock does: its wait watches there (and outlives a leader change), its writes go to
/// the leader one by one (<see cref="ConcurrencyUpstream"/>). Unlock is one write, forwarded whole by a follower
/// (<see cref="GrpcLeaderForwarder.ForwardedMethods"/>). Errors become etcd's statuses in
/// <see cref="GrpcOperationInterceptor"/> (<see cref="GrpcErrors.MapEtcd"/>).
/// </summary>
public sealed class EtcdLockService(EtcdMutex mutex, EtcdIdentity identity, IKvNode node, LeaderRouter router, GrpcLeaderForwarder forwarder) : V3Lock.Lock.LockBase
{
    public override async Task<V3Lock.LockResponse> Lock(V3Lock.LockRequest request, ServerCallContext context)
    {
        var writer = new ConcurrencyUpstream(node, router, forwarder, context);
        var held = await mutex.LockAsync(request.Name.ToByteArray(), request.Lease, writer, context.CancellationToken).ConfigureAwait(false);
        return new V3Lock.LockResponse { Header = identity.Header(held.Revision), Key = ByteString.CopyFrom(held.Key) };
    }

    public override async Task<V3Lock.UnlockResponse> Unlock(V3Lock.UnlockRequest request, ServerCallContext context)
    {
        if (request.Key.IsEmpty)
        {
            throw GrpcErrors.Etcd.EmptyKey; // etcd's Unlock is a DeleteRange of the key
        }

        var revision = await EtcdMutex.UnlockAsync(request.Key.ToByteArray(), new ConcurrencyUpstream(node, router, forwarder, context), context.CancellationToken)
            .ConfigureAwait(false);
        return new V3Lock.UnlockResponse { Header = identity.Header(revision) };
    }
}
