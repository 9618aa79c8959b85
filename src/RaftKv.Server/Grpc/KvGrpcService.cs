using Google.Protobuf;
using Grpc.Core;
using RaftKv.Protocol.V1;
using RaftKv.Replication.Api;
using RaftKv.Server.Pipeline;
using RangeRequest = RaftKv.Protocol.V1.RangeRequest;

namespace RaftKv.Server.Grpc;

/// <summary>raftkv.v1.KV. Reads are served locally (linearizable via the read barrier); writes on a
/// follower are forwarded to the leader by the pipeline (<see cref="GrpcLeaderForwarder"/>), and
/// errors are mapped there (<see cref="GrpcOperationInterceptor"/>).</summary>
public sealed class KvGrpcService(IKvNode node) : KV.KVBase
{
    private const int DefaultLimit = 1000;

    public override async Task<GetResponse> Get(GetRequest request, ServerCallContext context)
    {
        if (request.Key.IsEmpty || (request.Key.Length >= 2 && request.Key[0] == 0x00 && request.Key[1] == 0xFF))
        {
            return new GetResponse { Header = Header(), Found = false }; // never a key (reserved prefix)
        }

        var r = await node.RangeAsync(new Replication.Api.RangeRequest(request.Key.ToByteArray()), ReadFence.Consistency(context, ProtoMapping.ToApi(request.Consistency)), context.CancellationToken).ConfigureAwait(false);
        return new GetResponse { Header = Header(r.Revision), Found = r.Kvs.Count > 0, Kv = r.Kvs.Count > 0 ? ProtoMapping.ToProto(r.Kvs[0]) : null };
    }

    public override async Task<PutResponse> Put(PutRequest request, ServerCallContext context)
    {
        var op = ProtoMapping.ToApi(request);
        var r = await node.WriteAsync(KvTxn.Single(op, NullIfEmpty(request.RequestId)), context.CancellationToken).ConfigureAwait(false);
        var prev = r.Results.FirstOrDefault()?.PrevKv;
        return new PutResponse { Header = Header(r.Revision), Version = (ulong)r.Revision, PrevKv = prev is { } p ? ProtoMapping.ToProto(p) : null };
    }

    public override async Task<DeleteResponse> Delete(DeleteRequest request, ServerCallContext context)
    {
        var r = await node.WriteAsync(KvTxn.Single(ProtoMapping.ToApi(request), NullIfEmpty(request.RequestId)), context.CancellationToken).ConfigureAwait(false);
        return new DeleteResponse { Header = Header(r.Revision), Version = (ulong)r.Revision, Deleted = (ulong)(r.Results.FirstOrDefault()?.Deleted ?? 0) };
    }

    public override async Task<RangeResponse> Range(RangeRequest request, ServerCallContext context)
    {
        var limit = request.Limit == 0 ? DefaultLimit : (int)Math.Min(request.Limit, 100_000);
        var start = request.Continuation.IsEmpty ? request.Start.ToByteArray() : request.Continuation.ToByteArray();
        var end = request.Prefix ? KeyRanges.PrefixEnd(request.Start.ToByteArray()) : request.End.ToByteArray();

        // Native conventions (empty start = from the first key, empty end = unbounded) in etcd's form:
        // [0x00] is below every key (keys are non-empty) and a range end of [0x00] means unbounded.
        var r = await node.RangeAsync(
            new Replication.Api.RangeRequest(start.Length == 0 ? [0x00] : start, end.Length == 0 ? [0x00] : end, Limit: limit, KeysOnly: request.KeysOnly),
            ReadFence.Consistency(context, ProtoMapping.ToApi(request.Consistency)),
            context.CancellationToken).ConfigureAwait(false);
        var response = new RangeResponse { Header = Header(r.Revision), More = r.More };
        foreach (var kv in r.Kvs)
        {
            response.Kvs.Add(ProtoMapping.ToProto(kv));
        }

        if (response.More)
        {
            response.Next = ByteString.CopyFrom([.. r.Kvs[^1].Key.Span, 0]);
        }

        return response;
    }

    public override async Task<TxnResponse> Txn(TxnRequest request, ServerCallContext context)
    {
        var txn = new KvTxn(
            request.Compare.Select(ProtoMapping.ToApi).ToList(),
            request.Success.Select(ProtoMapping.ToApi).ToList(),
            request.Failure.Select(ProtoMapping.ToApi).ToList(),
            NullIfEmpty(request.RequestId));
        var r = await node.WriteAsync(txn, context.CancellationToken).ConfigureAwait(false);
        var header = Header();
        var branch = r.Succeeded ? txn.Success : txn.Failure;
        header.Revision = (ulong)r.Revision;
        var response = new TxnResponse { Header = header, Succeeded = r.Succeeded, Version = (ulong)r.Revision };
        for (var i = 0; i < Math.Min(branch.Count, r.Results.Count); i++)
        {
            response.Results.Add(ProtoMapping.ToProto(branch[i], r.Results[i], r.Revision, header));
        }

        return response;
    }

    public override async Task Watch(WatchRequest request, IServerStreamWriter<WatchResponse> responseStream, ServerCallContext context)
    {
        var key = request.Key.ToByteArray();
        byte[]? end = request.Prefix ? KeyRanges.PrefixEnd(key) is { Length: > 0 } pe ? pe : [0x00]
            : request.RangeEnd.IsEmpty ? null : request.RangeEnd.ToByteArray();
        if (request.Prefix && key.Length == 0)
        {
            key = [0x00];
        }

        if (request.StartVersion > long.MaxValue)
        {
            throw new RpcException(new Status(StatusCode.InvalidArgument, "start_version is larger than any revision"));
        }

        try
        {
            await foreach (var batch in node.WatchRevisionsAsync(key, end, (long)request.StartVersion, false, context.CancellationToken).ConfigureAwait(false))
            {
                var response = new WatchResponse { Header = Header(batch[0].Kv.ModRevision) };
                foreach (var e in batch)
                {
                    response.Events.Add(new Protocol.V1.WatchEvent { Type = e.Type == MvccEventType.Delete ? Protocol.V1.WatchEvent.Types.EventType.Delete : Protocol.V1.WatchEvent.Types.EventType.Put, Kv = ProtoMapping.ToProto(e.Kv) });
                }

                await responseStream.WriteAsync(response, context.CancellationToken).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (context.CancellationToken.IsCancellationRequested)
        {
        }
        catch (HistoryCompactedException e)
        {
            await responseStream.WriteAsync(new WatchResponse { Header = Header(), Compacted = true, CompactRevision = (ulong)e.OldestIndex }, CancellationToken.None).ConfigureAwait(false);
            throw; // mapped by GrpcOperationInterceptor, like every other error
        }
    }

    private ResponseHeader Header(long revision = 0) => NativeHeader.For(node, revision);

    private static string? NullIfEmpty(string s) => s.Length == 0 ? null : s;
}
