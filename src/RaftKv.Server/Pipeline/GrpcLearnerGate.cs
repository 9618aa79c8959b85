using Grpc.Core;
using Grpc.Core.Interceptors;
using RaftKv.Replication.Api;
using V3 = RaftKv.Protocol.Etcd;

namespace RaftKv.Server.Pipeline;

/// <summary>
/// What a learner serves over gRPC (docs/api.md, "Learners"), checked before authentication as etcd does. On
/// the etcd API, exactly etcd 3.4's rule (<c>v3rpc/interceptor.go</c>, <c>isRPCSupportedForLearner</c>): a
/// serializable <c>Range</c> and <c>Maintenance.Status</c>; every other unary call and every stream gets
/// rpctypes.ErrGRPCNotSupportedForLearner ("etcdserver: rpc not supported for learner", UNAVAILABLE). On the
/// native API the calls that need the leader (<see cref="GrpcLeaderForwarder.ForwardedMethods"/>) are refused
/// with <see cref="LearnerNotSupportedException"/> (UNAVAILABLE); the node itself refuses linearizable reads.
/// On a voter this interceptor only reads one flag.
/// </summary>
public sealed class GrpcLearnerGate(IKvNode node) : Interceptor
{
    public override Task<TResponse> UnaryServerHandler<TRequest, TResponse>(TRequest request, ServerCallContext context, UnaryServerMethod<TRequest, TResponse> continuation)
    {
        if (node.IsLearner)
        {
            if (GrpcErrors.IsEtcdMethod(context.Method))
            {
                if (request is not (V3.StatusRequest or V3.RangeRequest { Serializable: true }))
                {
                    throw GrpcErrors.Etcd.NotSupportedForLearner;
                }
            }
            else if (GrpcLeaderForwarder.ForwardedMethods.Contains(context.Method))
            {
                throw new LearnerNotSupportedException();
            }
        }

        return continuation(request, context);
    }

    public override Task ServerStreamingServerHandler<TRequest, TResponse>(TRequest request, IServerStreamWriter<TResponse> responseStream, ServerCallContext context, ServerStreamingServerMethod<TRequest, TResponse> continuation)
    {
        RefuseEtcdStream(context);
        return continuation(request, responseStream, context);
    }

    public override Task DuplexStreamingServerHandler<TRequest, TResponse>(IAsyncStreamReader<TRequest> requestStream, IServerStreamWriter<TResponse> responseStream, ServerCallContext context, DuplexStreamingServerMethod<TRequest, TResponse> continuation)
    {
        RefuseEtcdStream(context);
        return continuation(requestStream, responseStream, context);
    }

    public override Task<TResponse> ClientStreamingServerHandler<TRequest, TResponse>(IAsyncStreamReader<TRequest> requestStream, ServerCallContext context, ClientStreamingServerMethod<TRequest, TResponse> continuation)
    {
        RefuseEtcdStream(context);
        return continuation(requestStream, context);
    }

    private void RefuseEtcdStream(ServerCallContext context)
    {
        if (node.IsLearner && GrpcErrors.IsEtcdMethod(context.Method))
        {
            throw GrpcErrors.Etcd.NotSupportedForLearner;
        }
    }
}
