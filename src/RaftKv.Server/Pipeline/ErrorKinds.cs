using RaftKv.Replication.Api;
using RaftKv.Storage;

namespace RaftKv.Server.Pipeline;

/// <summary>The one place that recognises the domain errors raised by the lower layers (by type).</summary>
public static class ErrorKinds
{
    public static ErrorKind Of(Exception e) => e switch
    {
        ValueTooLargeException => ErrorKind.TooLarge,
        AuthException a => a.Error switch
        {
            AuthError.Unauthenticated or AuthError.InvalidToken or AuthError.AuthFailed => ErrorKind.Unauthenticated,
            AuthError.PermissionDenied => ErrorKind.PermissionDenied,
            AuthError.TooManyRequests => ErrorKind.TooManyRequests,
            AuthError.UserEmpty or AuthError.RoleEmpty => ErrorKind.InvalidArgument, // etcd: InvalidArgument
            _ => ErrorKind.AuthRefused,
        },
        FutureRevisionException => ErrorKind.FutureRevision,
        TooManyTxnOpsException => ErrorKind.TooManyTxnOps,
        DuplicateKeyInTxnException => ErrorKind.DuplicateKeyInTxn,
        LeaseNotFoundException => ErrorKind.LeaseNotFound,
        LeaseExistsException => ErrorKind.LeaseExists,
        LeaseTtlTooLargeException => ErrorKind.LeaseTtlTooLarge,
        KeyNotFoundForIgnoreException => ErrorKind.KeyNotFound,
        MemberUpdateRefusedException => ErrorKind.MemberUpdateRefused,
        MemberNotFoundException => ErrorKind.MemberNotFound, // an ArgumentException: before the line below
        ArgumentException or FormatException => ErrorKind.InvalidArgument,
        NotLeaderException => ErrorKind.NotLeader,
        TooManyLearnersException => ErrorKind.TooManyLearners,
        LearnerNotSupportedException or LearnerNotReadyException => ErrorKind.Unavailable, // a learner's refusal; a promote to retry later
        UnavailableException { OutcomeUnknown: true } => ErrorKind.OutcomeUnknown,
        UnavailableException => ErrorKind.Unavailable,
        Storage.IO.DiskFullException or NoSpaceException => ErrorKind.NoSpace,
        RemoteTierUnavailableException => ErrorKind.ObjectStoreUnavailable,
        HistoryCompactedException => ErrorKind.Compacted,
        LeaderChangedException => ErrorKind.LeaderChanged,

        // DotNext's own exception, escaped from a call into the Raft library that lost leadership half-way (KvNode
        // translates the ones it knows into NotLeaderException; one it missed — AddMemberAsync until 2026-12-04 — made
        // a 500): leadership changed under a pending request, etcd's "leader changed", a 503 to retry.
        DotNext.Net.Cluster.Consensus.Raft.NotLeaderException => ErrorKind.LeaderChanged,
        ForwardTimeoutException => ErrorKind.ForwardTimeout,
        OperationCanceledException => ErrorKind.Cancelled,
        _ => ErrorKind.Internal,
    };
}
