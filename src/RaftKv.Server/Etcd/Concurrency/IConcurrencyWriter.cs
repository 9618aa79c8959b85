using RaftKv.Replication.Api;

namespace RaftKv.Server.Etcd.Concurrency;

/// <summary>
/// The writes of one Lock or Election call (<see cref="EtcdMutex"/>, <see cref="EtcdElection"/>): each must reach
/// the leader, whichever member runs the call. etcd runs v3lock and v3election on the member the client talks to,
/// over an in-process client whose every KV call goes through Raft from there (checked with the caller's token);
/// this is that client's write half. The waits and reads stay on the member (<see cref="ConcurrencyKv"/>).
/// Implemented by <see cref="ConcurrencyUpstream"/>: on the leader, <see cref="IKvNode"/>; on a follower, one
/// etcd <c>KV/Txn</c> or <c>Lease/LeaseGrant</c> sent to the leader with the caller's forwarded credentials.
/// </summary>
public interface IConcurrencyWriter
{
    /// <summary>Applies <paramref name="txn"/> through the current leader and returns its result. Throws what the
    /// leader answers (bad lease, permission, …).</summary>
    /// <param name="txn">The transaction.</param>
    /// <param name="idempotent">The transaction may be applied twice with the same outcome (a create conditional on
    /// the key's absence that reads the key otherwise, a delete): when a leader change leaves its outcome unknown
    /// it is sent again to the next leader, instead of failing with "leader changed".</param>
    /// <param name="cancellationToken">The call's cancellation.</param>
    Task<TxnResult> WriteAsync(KvTxn txn, bool idempotent, CancellationToken cancellationToken);

    /// <summary>Grants a new lease of <paramref name="ttlSeconds"/> (the leader picks its id) and returns its id.
    /// A grant is not idempotent (a second one would leave an orphan lease): it is sent again only when it surely did
    /// not reach a leader (no connection could be made, the member was not the leader any more before it proposed it).</summary>
    Task<long> LeaseGrantAsync(long ttlSeconds, CancellationToken cancellationToken);
}
