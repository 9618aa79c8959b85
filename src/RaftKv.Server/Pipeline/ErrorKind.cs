namespace RaftKv.Server.Pipeline;

/// <summary>What went wrong, independent of the front door. <see cref="ErrorKinds.Of"/> classifies an
/// exception by its type (never by its message); each front door has one mapping from kind to its
/// wire answer: <see cref="ApiError"/> (status + JSON code) and <see cref="GrpcErrors"/> (status code).
/// The table is in docs/architecture.md, "Errors".</summary>
public enum ErrorKind
{
    /// <summary>Anything not classified below: a bug or an I/O failure (500 / INTERNAL).</summary>
    Internal,

    /// <summary>Bad input: <see cref="ArgumentException"/> or <see cref="FormatException"/>.</summary>
    InvalidArgument,

    /// <summary>Key or value over the configured limit (<c>ValueTooLargeException</c>).</summary>
    TooLarge,

    /// <summary>This node is not the leader and the call was not forwarded (<c>NotLeaderException</c>).</summary>
    NotLeader,

    /// <summary>No quorum or no leader within the deadline; the write was not applied (<c>UnavailableException</c>).</summary>
    Unavailable,

    /// <summary>The write timed out and may still commit (<c>UnavailableException.OutcomeUnknown</c>).</summary>
    OutcomeUnknown,

    /// <summary>The object store holding an archived table does not answer (<c>RemoteTierUnavailableException</c>).</summary>
    ObjectStoreUnavailable,

    /// <summary>A watch start older than the retained history (<c>HistoryCompactedException</c>).</summary>
    Compacted,

    /// <summary>Out of space: the NOSPACE alarm is active (<c>NoSpaceException</c>, etcd's "database space
    /// exceeded") or the leader's disk is full (<c>DiskFullException</c>); the write was refused and not
    /// applied (507 no_space / RESOURCE_EXHAUSTED).</summary>
    NoSpace,

    /// <summary>A revision newer than the store's (<c>FutureRevisionException</c>; bad input to the native API).</summary>
    FutureRevision,

    /// <summary>A transaction branch with more ops than allowed (<c>TooManyTxnOpsException</c>; bad input to the native API).</summary>
    TooManyTxnOps,

    /// <summary>Two writes of one transaction branch touch the same key (<c>DuplicateKeyInTxnException</c>; bad input to the native API).</summary>
    DuplicateKeyInTxn,

    /// <summary>A put names a lease that is not granted (<c>LeaseNotFoundException</c>; bad input to the native API).</summary>
    LeaseNotFound,

    /// <summary>A lease grant names an id already granted (<c>LeaseExistsException</c>; bad input to the native API).</summary>
    LeaseExists,

    /// <summary>A lease grant's TTL is above etcd's maximum (<c>LeaseTtlTooLargeException</c>; bad input to the native API).</summary>
    LeaseTtlTooLarge,

    /// <summary>A put with ignore_value/ignore_lease names a missing key (<c>KeyNotFoundForIgnoreException</c>; bad input to the native API).</summary>
    KeyNotFound,

    /// <summary>No credentials, or a bad, expired or stale token, or a wrong password (<c>AuthException</c>; 401 / UNAUTHENTICATED).</summary>
    Unauthenticated,

    /// <summary>The user lacks the permission (<c>AuthException</c> PermissionDenied; 403 / PERMISSION_DENIED).</summary>
    PermissionDenied,

    /// <summary>Too many failed authentications (429 / RESOURCE_EXHAUSTED).</summary>
    TooManyRequests,

    /// <summary>An auth management change refused by etcd's rules (user exists, role not found, …; 400 / FAILED_PRECONDITION).</summary>
    AuthRefused,

    /// <summary>A learner add beyond MAX_LEARNERS (<c>TooManyLearnersException</c>; 409 / FAILED_PRECONDITION).</summary>
    TooManyLearners,

    /// <summary>A forwarded call abandoned because the leader it went to lost leadership (<c>LeaderChangedException</c>;
    /// outcome unknown; 503 leader_changed / UNAVAILABLE, etcd's "etcdserver: leader changed"), or a call into DotNext on
    /// the leader that lost leadership half-way (DotNext's <c>NotLeaderException</c> escaping the replication layer).</summary>
    LeaderChanged,

    /// <summary>A forwarded call the leader did not answer within the forwarding bound (<c>ForwardTimeoutException</c>;
    /// outcome unknown; 504 leader_timeout / DEADLINE_EXCEEDED, etcd's "etcdserver: request timed out").</summary>
    ForwardTimeout,

    /// <summary>A member move (etcd MemberUpdate) refused while it could cost the quorum or for a leader or learner (<c>MemberUpdateRefusedException</c>; 409 / FAILED_PRECONDITION).</summary>
    MemberUpdateRefused,

    /// <summary>A membership call naming an id the leader does not list (<c>MemberNotFoundException</c>; 404 not_found /
    /// NOT_FOUND, etcd's "etcdserver: member not found").</summary>
    MemberNotFound,

    /// <summary>The caller cancelled (<see cref="OperationCanceledException"/>).</summary>
    Cancelled,
}
