namespace RaftKv.Server.Etcd.Concurrency;

/// <summary>The errors of etcd's concurrency package and election server that the Lock and Election services
/// answer (plain Go errors in etcd, so gRPC UNKNOWN with the error's text: <see cref="Pipeline.GrpcErrors.MapEtcd"/>).</summary>
public enum ConcurrencyError
{
    /// <summary>concurrency.ErrElectionNotLeader: "election: not leader" (Proclaim by a candidate that no longer holds its key).</summary>
    NotLeader,

    /// <summary>concurrency.ErrElectionNoLeader: "election: no leader" (Leader of an election nobody campaigns in).</summary>
    NoLeader,

    /// <summary>v3election.ErrMissingLeaderKey: <c>"leader" field must be provided</c> (Proclaim or Resign without a leader).</summary>
    MissingLeaderKey,

    /// <summary>concurrency.ErrSessionExpired: "session expired" (a Lock whose own key was deleted — its lease expired
    /// or was revoked — while it waited: it does not hold the lock).</summary>
    SessionExpired,
}
