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
        var e = await node.GetAsync(request.Key.Memory, ProtoMapping.ToApi(request.Consistency), context.CancellationToken).ConfigureAwait(false);
        return new GetResponse { Header = Header(), Found = e is not null, Kv = e is { } kv ? ProtoMapping.ToProto(kv) : null };
    }

    public override async Task<PutResponse> Put(PutRequest request, ServerCallContext context)
    {
        var op = ProtoMapping.ToApi(request);
        var r = await node.WriteAsync(KvTxn.Single(op, NullIfEmpty(request.RequestId)), context.CancellationToken).ConfigureAwait(false);
        var prev = r.Results.FirstOrDefault()?.Previous;
        return new PutResponse { Header = Header(), Version = (ulong)r.Index, PrevKv = prev is { } p ? ProtoMapping.ToProto(p) : null };
    }

    public override async Task<DeleteResponse> Delete(DeleteRequest request, ServerCallContext context)
    {
        var r = await node.WriteAsync(KvTxn.Single(ProtoMapping.ToApi(request), NullIfEmpty(request.RequestId)), context.CancellationToken).ConfigureAwait(false);
        return new DeleteResponse { Header = Header(), Version = (ulong)r.Index, Deleted = (ulong)(r.Results.FirstOrDefault()?.Deleted ?? 0) };
    }

    public override async Task<RangeResponse> Range(RangeRequest request, ServerCallContext context)
    {
        var limit = request.Limit == 0 ? DefaultLimit : (int)Math.Min(request.Limit, 100_000);
        var start = request.Continuation.IsEmpty ? request.Start.ToByteArray() : request.Continuation.ToByteArray();
        var end = request.Prefix ? KeyRanges.PrefixEnd(request.Start.ToByteArray()) : request.End.ToByteArray();
        var entries = await node.RangeAsync(start, end, limit + 1, ProtoMapping.ToApi(request.Consistency), context.CancellationToken).ConfigureAwait(false);
        var response = new RangeResponse { Header = Header(), More = entries.Count > limit };
        foreach (var e in entries.Take(limit))
        {
            var kv = ProtoMapping.ToProto(e);
            if (request.KeysOnly)
            {
                kv.Value = ByteString.Empty;
            }

            response.Kvs.Add(kv);
        }

        if (response.More)
        {
            response.Next = ByteString.CopyFrom([.. entries[limit - 1].Key.Span, 0]);
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
        var response = new TxnResponse { Header = header, Succeeded = r.Succeeded, Version = (ulong)r.Index };
        for (var i = 0; i < Math.Min(branch.Count, r.Results.Count); i++)
        {
            response.Results.Add(ProtoMapping.ToProto(branch[i], r.Results[i], r.Index, header));
        }

        return response;
    }

    public override async Task Watch(WatchRequest request, IServerStreamWriter<WatchResponse> responseStream, ServerCallContext context)
    {
        try
        {
            await foreach (var e in node.WatchAsync(request.Key.ToByteArray(), request.RangeEnd.IsEmpty ? null : request.RangeEnd.ToByteArray(), request.Prefix, (long)request.StartVersion, context.CancellationToken).ConfigureAwait(false))
            {
                var ev = new Protocol.V1.WatchEvent { Type = e.IsDelete ? Protocol.V1.WatchEvent.Types.EventType.Delete : Protocol.V1.WatchEvent.Types.EventType.Put, Kv = ProtoMapping.ToProto(e.Entry) };
                var response = new WatchResponse { Header = Header() };
                response.Events.Add(ev);
                await responseStream.WriteAsync(response, context.CancellationToken).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (context.CancellationToken.IsCancellationRequested)
        {
        }
        catch (HistoryCompactedException e)
        {
            await responseStream.WriteAsync(new WatchResponse { Header = Header(), Compacted = true }, CancellationToken.None).ConfigureAwait(false);
            throw GrpcErrors.Map(e);
        }
    }

    private ResponseHeader Header()
    {
        var (term, applied, leader) = node.HeaderInfo();
        return new ResponseHeader { NodeId = (ulong)node.NodeId, Term = (ulong)term, AppliedIndex = (ulong)applied, Leader = leader };
    }

    private static string? NullIfEmpty(string s) => s.Length == 0 ? null : s;
}
