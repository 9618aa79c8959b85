using Google.Protobuf;
using RaftKv.Server.Pipeline;
using V3 = RaftKv.Protocol.Etcd;

namespace RaftKv.Server.Etcd;

/// <summary>
/// etcd's request checks that come before anything reaches the node (etcd's <c>v3rpc/key.go</c>), with
/// etcd's errors: an empty key is "key is not provided", an unknown sort option is "invalid sort
/// option", ignore_value/ignore_lease with a value/lease are "value/lease is provided"; a txn is
/// checked compare by compare (an empty key), then op by op (an empty op is etcd's "key not found"), nested txns
/// included. Limits on ops per txn and duplicate keys are checked by the
/// node (<c>TooManyTxnOpsException</c>, <c>DuplicateKeyInTxnException</c>).
/// </summary>
internal static class EtcdValidation
{
    public static void Check(V3.RangeRequest r)
    {
        if (r.Key.IsEmpty)
        {
            throw GrpcErrors.Etcd.EmptyKey;
        }

        if (!Enum.IsDefined(r.SortOrder) || !Enum.IsDefined(r.SortTarget))
        {
            throw GrpcErrors.Etcd.InvalidSortOption;
        }
    }

    public static void Check(V3.PutRequest r)
    {
        if (r.Key.IsEmpty)
        {
            throw GrpcErrors.Etcd.EmptyKey;
        }

        if (r.IgnoreValue && !r.Value.IsEmpty)
        {
            throw GrpcErrors.Etcd.ValueProvided;
        }

        if (r.IgnoreLease && r.Lease != 0)
        {
            throw GrpcErrors.Etcd.LeaseProvided;
        }
    }

    public static void Check(V3.DeleteRangeRequest r)
    {
        if (r.Key.IsEmpty)
        {
            throw GrpcErrors.Etcd.EmptyKey;
        }
    }

    public static void Check(V3.TxnRequest t)
    {
        foreach (var c in t.Compare)
        {
            if (c.Key.IsEmpty)
            {
                throw GrpcErrors.Etcd.EmptyKey; // etcd's checkTxnRequest, before the ops
            }
        }

        foreach (var op in t.Success.Concat(t.Failure))
        {
            switch (op.RequestCase)
            {
                case V3.RequestOp.RequestOneofCase.RequestRange:
                    Check(op.RequestRange);
                    break;
                case V3.RequestOp.RequestOneofCase.RequestPut:
                    Check(op.RequestPut);
                    break;
                case V3.RequestOp.RequestOneofCase.RequestDeleteRange:
                    Check(op.RequestDeleteRange);
                    break;
                case V3.RequestOp.RequestOneofCase.RequestTxn:
                    Check(op.RequestTxn);
                    break;
                default:
                    throw GrpcErrors.Etcd.KeyNotFound; // etcd's checkRequestOp answers an empty op so (ErrGRPCKeyNotFound)
            }
        }
    }

    /// <summary>A range_end that ends before (or at) the key: etcd answers such a range with nothing
    /// rather than an error ("\0" is not one: it means "to the end").</summary>
    public static bool IsEmptyRange(ByteString key, ByteString rangeEnd)
        => !rangeEnd.IsEmpty && !(rangeEnd.Length == 1 && rangeEnd[0] == 0) && rangeEnd.Span.SequenceCompareTo(key.Span) <= 0;
}
