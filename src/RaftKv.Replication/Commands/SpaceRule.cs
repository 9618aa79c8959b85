using RaftKv.Replication.Api;

namespace RaftKv.Replication.Commands;

/// <summary>
/// Which commands the NOSPACE alarm refuses: those that add data — a transaction with a put in either
/// branch (nested transactions included, whichever branch would run: etcd's <c>applierV3Capped</c>
/// refuses a txn whose quota cost is positive) and a lease grant. Deletes, reads, compaction, lease
/// revocation, ticks, alarms and auth changes pass. A pure function of the command, shared by the applier
/// (the deterministic decision) and the leader's admission check (a fast path).
/// </summary>
public static class SpaceRule
{
    public static bool AddsData(KvCommand command) => command.Kind switch
    {
        CommandKind.LeaseGrant => true,
        CommandKind.Txn => command.Txn is { } txn && HasPut(txn),
        _ => false,
    };

    private static bool HasPut(KvTxn txn)
    {
        foreach (var op in txn.Success.Concat(txn.Failure))
        {
            if (op.Kind == KvOpKind.Put || (op is { Kind: KvOpKind.Txn, Nested: { } nested } && HasPut(nested)))
            {
                return true;
            }
        }

        return false;
    }
}
