using Google.Protobuf;
using Grpc.Core;
using RaftKv.Server.Etcd.Concurrency;
using RaftKv.Server.Pipeline;
using V3Lock = RaftKv.Protocol.Etcd.V3Lock;

namespace RaftKv.Server.Etcd;

/// <summary>
/// etcd's v3lockpb.Lock (docs/api.md, "Lock and Election"): a thin front over <see cref="EtcdMutex"/>. Both
/// calls write, so a follower forwards them to the leader (<see cref="GrpcLeaderForwarder.ForwardedMethods"/>;
/// a Lock that waits keeps its forwarded call open with the caller's deadline and cancellation); errors become
/// etcd's statuses in <see cref="GrpcOperationInterceptor"/> (<see cref="GrpcErrors.MapEtcd"/>).
/// </summary>
public sealed class EtcdLockService(EtcdMutex mutex, EtcdIdentity identity) : V3Lock.Lock.LockBase
{
    public override async Task<V3Lock.LockResponse> Lock(V3Lock.LockRequest request, ServerCallContext context)
    {
        var held = await mutex.LockAsync(request.Name.ToByteArray(), request.Lease, context.CancellationToken).ConfigureAwait(false);
        return new V3Lock.LockResponse { Header = identity.Header(held.Revision), Key = ByteString.CopyFrom(held.Key) };
    }

    public override async Task<V3Lock.UnlockResponse> Unlock(V3Lock.UnlockRequest request, ServerCallContext context)
    {
        if (request.Key.IsEmpty)
        {
            throw GrpcErrors.Etcd.EmptyKey; // etcd's Unlock is a DeleteRange of the key
        }

        var revision = await mutex.UnlockAsync(request.Key.ToByteArray(), context.CancellationToken).ConfigureAwait(false);
        return new V3Lock.UnlockResponse { Header = identity.Header(revision) };
    }
}
