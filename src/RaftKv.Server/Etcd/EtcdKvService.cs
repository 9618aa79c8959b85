using Grpc.Core;
using RaftKv.Replication.Api;
using RaftKv.Replication.Diagnostics;
using RaftKv.Server.Pipeline;
using V3 = RaftKv.Protocol.Etcd;

namespace RaftKv.Server.Etcd;

/// <summary>
/// etcdserverpb.KV over the node's MVCC API: validate (<see cref="EtcdValidation"/>), call
/// <see cref="IKvNode"/>, map (<see cref="EtcdMapping"/>). Writes on a follower are forwarded to the
/// leader by the pipeline (<see cref="GrpcLeaderForwarder"/>); errors become etcd's statuses in
/// <see cref="GrpcOperationInterceptor"/> (<see cref="GrpcErrors.MapEtcd"/>). Every header carries
/// the revision the answer reflects.
/// </summary>
public sealed class EtcdKvService(IKvNode node, EtcdIdentity identity) : V3.KV.KVBase
{
    public override async Task<V3.RangeResponse> Range(V3.RangeRequest request, ServerCallContext context)
    {
        EtcdValidation.Check(request);
        if (EtcdValidation.IsEmptyRange(request.Key, request.RangeEnd))
        {
            // etcd: an empty range, not an error — after the revision checks every range gets.
            var current = node.Revision;
            if (request.Revision > current)
            {
                throw new FutureRevisionException(request.Revision, current);
            }

            if (request.Revision > 0 && request.Revision < node.CompactRevision) // etcd: a revision ≤ 0 is the current one
            {
                throw new RevisionCompactedException(request.Revision, node.CompactRevision);
            }

            return new V3.RangeResponse { Header = identity.Header(current) };
        }

        var result = await node.RangeAsync(EtcdMapping.ToApi(request), ReadFence.Consistency(context, EtcdMapping.Consistency(request)), context.CancellationToken).ConfigureAwait(false);
        return EtcdMapping.ToProto(result, identity.Header(result.Revision));
    }

    public override async Task<V3.PutResponse> Put(V3.PutRequest request, ServerCallContext context)
    {
        RoundTrace.Mark(RoundTrace.Point.Received, 0);
        EtcdValidation.Check(request);
        var r = await node.WriteAsync(KvTxn.Single(EtcdMapping.ToApi(request)), context.CancellationToken).ConfigureAwait(false);
        RoundTrace.Mark(RoundTrace.Point.Responded, r.Index);
        return EtcdMapping.PutResponse(r.Results.FirstOrDefault(), identity.Header(r.Revision));
    }

    public override async Task<V3.DeleteRangeResponse> DeleteRange(V3.DeleteRangeRequest request, ServerCallContext context)
    {
        EtcdValidation.Check(request);
        if (EtcdValidation.IsEmptyRange(request.Key, request.RangeEnd))
        {
            return new V3.DeleteRangeResponse { Header = identity.Header(node.Revision) };
        }

        var r = await node.WriteAsync(KvTxn.Single(EtcdMapping.ToApi(request)), context.CancellationToken).ConfigureAwait(false);
        return EtcdMapping.DeleteResponse(r.Results.FirstOrDefault(), identity.Header(r.Revision));
    }

    public override async Task<V3.TxnResponse> Txn(V3.TxnRequest request, ServerCallContext context)
    {
        EtcdValidation.Check(request);
        var txn = EtcdMapping.ToApi(request);
        var r = await node.WriteAsync(txn, context.CancellationToken).ConfigureAwait(false);
        return EtcdMapping.ToProto(txn, r, identity.Header);
    }

    public override async Task<V3.CompactionResponse> Compact(V3.CompactionRequest request, ServerCallContext context)
    {
        var revision = await node.CompactRevisionAsync(request.Revision, request.Physical, context.CancellationToken).ConfigureAwait(false);
        return new V3.CompactionResponse { Header = identity.Header(revision) };
    }
}
