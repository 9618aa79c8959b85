using RaftKv.Replication.Api;

namespace RaftKv.Replication;

/// <summary>etcd's duplicate-key rule for one transaction (<c>checkIntervals</c>): within the branch a
/// request may take, no key is put twice and no put falls in a deleted range, nested txns included (a
/// key put in both branches of one nested txn is fine: only one runs). Deleted ranges may overlap.</summary>
internal static class TxnDuplicates
{
    public static void Check(KvTxn txn)
    {
        if (IsTrivial(txn.Success) && IsTrivial(txn.Failure))
        {
            return; // a plain put or delete (every etcd Put/DeleteRange): nothing to collide with
        }

        CheckBranch(txn.Success);
        CheckBranch(txn.Failure);
    }

    /// <summary>At most one op and no nested txn: no duplicate is possible.</summary>
    private static bool IsTrivial(IReadOnlyList<KvOp> ops) => ops.Count == 0 || (ops.Count == 1 && ops[0].Kind != KvOpKind.Txn);

    private static (HashSet<byte[]> Puts, List<(byte[] Start, byte[] End)> Dels) CheckBranch(IReadOnlyList<KvOp> ops)
    {
        var dels = new List<(byte[], byte[])>();
        foreach (var op in ops)
        {
            if (op.Kind is KvOpKind.Delete or KvOpKind.DeleteRange)
            {
                dels.Add(DeletedRange(op));
            }
        }

        var puts = new HashSet<byte[]>(State.ByteArrayEquality.Instance);
        foreach (var op in ops)
        {
            if (op is not { Kind: KvOpKind.Txn, Nested: { } nested })
            {
                continue;
            }

            var (putsThen, delsThen) = CheckBranch(nested.Success);
            var (putsElse, delsElse) = CheckBranch(nested.Failure);
            foreach (var k in putsThen)
            {
                if (!puts.Add(k) || InAny(dels, k))
                {
                    throw new DuplicateKeyInTxnException(k);
                }
            }

            foreach (var k in putsElse)
            {
                if ((!puts.Add(k) && !putsThen.Contains(k)) || InAny(dels, k))
                {
                    throw new DuplicateKeyInTxnException(k);
                }
            }

            dels.AddRange(delsThen);
            dels.AddRange(delsElse);
        }

        foreach (var op in ops)
        {
            if (op.Kind == KvOpKind.Put && (!puts.Add(op.Key) || InAny(dels, op.Key)))
            {
                throw new DuplicateKeyInTxnException(op.Key);
            }
        }

        return (puts, dels);
    }

    private static (byte[] Start, byte[] End) DeletedRange(KvOp op)
    {
        var (start, end, single) = State.KvState.DeleteBounds(op);
        return single ? (start, [.. start, 0x00]) : (start, end);
    }

    private static bool InAny(List<(byte[] Start, byte[] End)> ranges, byte[] key)
    {
        foreach (var (start, end) in ranges)
        {
            if (key.AsSpan().SequenceCompareTo(start) >= 0 && (end.Length == 0 || key.AsSpan().SequenceCompareTo(end) < 0))
            {
                return true;
            }
        }

        return false;
    }
}
