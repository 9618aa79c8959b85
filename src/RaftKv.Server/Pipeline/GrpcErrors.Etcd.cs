using Grpc.Core;
using RaftKv.Replication.Api;

namespace RaftKv.Server.Pipeline;

/// <summary>
/// The etcd v3 front door's error table: etcd's gRPC status codes with etcd's exact message strings
/// (etcd's <c>api/v3rpc/rpctypes</c>), because etcd's clients recognise errors by that text (clientv3
/// turns a known string back into its typed error; etcdctl prints it). Domain errors are classified
/// by type through <see cref="ErrorKinds"/> like the native table; the handlers' own validation
/// throws the ready-made statuses of <see cref="Etcd"/>.
/// </summary>
public static partial class GrpcErrors
{
    /// <summary>The gRPC package of etcd's services (proto/etcd/etcdserverpb/rpc.proto).</summary>
    public const string EtcdPackage = "etcdserverpb";

    /// <summary>The gRPC packages of etcd's Lock and Election services (proto/etcd/v3lockpb, proto/etcd/v3electionpb).</summary>
    public const string EtcdLockPackage = "v3lockpb", EtcdElectionPackage = "v3electionpb";

    /// <summary>Whether a method is one of etcd's (any of its packages): etcd's error table, api label and learner rules.</summary>
    public static bool IsEtcdMethod(string fullMethod)
        => fullMethod.StartsWith("/" + EtcdPackage + ".", StringComparison.Ordinal) || IsEtcdConcurrencyMethod(fullMethod);

    /// <summary>Whether a method is one of etcd's Lock or Election services (<see cref="AsGoError"/>).</summary>
    public static bool IsEtcdConcurrencyMethod(string fullMethod)
        => fullMethod.StartsWith("/" + EtcdLockPackage + ".", StringComparison.Ordinal)
            || fullMethod.StartsWith("/" + EtcdElectionPackage + ".", StringComparison.Ordinal);

    /// <summary>
    /// etcd's Lock and Election servers call etcd through its embedded Go client, which turns each of etcd's
    /// errors into a typed Go error without a gRPC status (rpctypes.EtcdError): the caller sees UNKNOWN with the
    /// same text (e.g. "etcdserver: requested lease not found"). A cancelled or expired call keeps its code.
    /// </summary>
    public static RpcException AsGoError(RpcException mapped)
        => mapped.StatusCode is StatusCode.Unknown or StatusCode.Cancelled or StatusCode.DeadlineExceeded
            ? mapped
            : new RpcException(new Status(StatusCode.Unknown, mapped.Status.Detail), mapped.Trailers);

    public static RpcException MapEtcd(Exception e) => e switch
    {
        RpcException rpc => rpc,
        AuthException a => Etcd.Auth(a.Error),
        BadLeaderTransfereeException => Etcd.BadLeaderTransferee,
        NotLearnerException => Etcd.MemberNotLearner,
        LearnerNotReadyException => Etcd.LearnerNotReady,
        LearnerNotSupportedException => Etcd.NotSupportedForLearner,
        TooManyLearnersException => Etcd.TooManyLearners,
        MemberUpdateRefusedException => new RpcException(new Status(StatusCode.FailedPrecondition, "raftkv: " + e.Message)),

        // etcd's Lock and Election servers return plain Go errors (concurrency's, v3election's): UNKNOWN with the text.
        Server.Etcd.Concurrency.ConcurrencyException c => new RpcException(new Status(StatusCode.Unknown, Server.Etcd.Concurrency.ConcurrencyException.TextOf(c.Error))),
        _ => ErrorKinds.Of(e) switch
        {
            ErrorKind.TooLarge => Etcd.RequestTooLarge,
            ErrorKind.InvalidArgument => new RpcException(new Status(StatusCode.InvalidArgument, "etcdserver: " + e.Message)),
            ErrorKind.NotLeader => Etcd.NoLeader,
            ErrorKind.Unavailable or ErrorKind.OutcomeUnknown or ErrorKind.ForwardTimeout => Etcd.Timeout,
            ErrorKind.LeaderChanged => Etcd.LeaderChanged,
            ErrorKind.ObjectStoreUnavailable => new RpcException(new Status(StatusCode.Unavailable, "etcdserver: " + e.Message)),
            ErrorKind.NoSpace => Etcd.NoSpace,
            ErrorKind.Compacted => Etcd.Compacted,
            ErrorKind.FutureRevision => Etcd.FutureRevision,
            ErrorKind.TooManyTxnOps => Etcd.TooManyOps,
            ErrorKind.DuplicateKeyInTxn => Etcd.DuplicateKey,
            ErrorKind.LeaseNotFound => Etcd.LeaseNotFound,
            ErrorKind.LeaseExists => Etcd.LeaseExists,
            ErrorKind.LeaseTtlTooLarge => Etcd.LeaseTtlTooLarge,
            ErrorKind.KeyNotFound => Etcd.KeyNotFound,
            ErrorKind.MemberNotFound => Etcd.MemberNotFound,
            ErrorKind.Cancelled => new RpcException(new Status(StatusCode.Cancelled, "context canceled")),
            _ => new RpcException(new Status(StatusCode.Internal, "etcdserver: internal error: " + e.GetType().Name + ": " + e.Message)),
        },
    };

    /// <summary>etcd's errors, code and text exactly as etcd sends them. Each is a fresh exception.</summary>
    public static class Etcd
    {
        public static RpcException EmptyKey => New(StatusCode.InvalidArgument, "etcdserver: key is not provided");

        public static RpcException KeyNotFound => New(StatusCode.InvalidArgument, "etcdserver: key not found");

        public static RpcException TooManyOps => New(StatusCode.InvalidArgument, "etcdserver: too many operations in txn request");

        public static RpcException DuplicateKey => New(StatusCode.InvalidArgument, "etcdserver: duplicate key given in txn request");

        public static RpcException Compacted => New(StatusCode.OutOfRange, "etcdserver: mvcc: required revision has been compacted");

        public static RpcException FutureRevision => New(StatusCode.OutOfRange, "etcdserver: mvcc: required revision is a future revision");

        public static RpcException NoSpace => New(StatusCode.ResourceExhausted, "etcdserver: mvcc: database space exceeded");

        public static RpcException LeaseNotFound => New(StatusCode.NotFound, "etcdserver: requested lease not found");

        public static RpcException LeaseExists => New(StatusCode.FailedPrecondition, "etcdserver: lease already exists");

        public static RpcException LeaseTtlTooLarge => New(StatusCode.OutOfRange, "etcdserver: too large lease TTL");

        public static RpcException MemberNotFound => New(StatusCode.NotFound, "etcdserver: member not found");

        public static RpcException MemberPeerUrlExists => New(StatusCode.FailedPrecondition, "etcdserver: Peer URLs already exists");

        public static RpcException MemberBadUrls => New(StatusCode.InvalidArgument, "etcdserver: given member URLs are invalid");

        public static RpcException RequestTooLarge => New(StatusCode.InvalidArgument, "etcdserver: request is too large");

        public static RpcException NoLeader => New(StatusCode.Unavailable, "etcdserver: no leader");

        public static RpcException BadLeaderTransferee => New(StatusCode.FailedPrecondition, "etcdserver: bad leader transferee");

        /// <summary>rpctypes.ErrGRPCMemberNotLearner: a promote of a voting member.</summary>
        public static RpcException MemberNotLearner => New(StatusCode.FailedPrecondition, "etcdserver: can only promote a learner member");

        /// <summary>rpctypes.ErrGRPCLearnerNotReady: a promote of a learner not caught up with the leader.</summary>
        public static RpcException LearnerNotReady => New(StatusCode.FailedPrecondition, "etcdserver: can only promote a learner member which is in sync with leader");

        /// <summary>rpctypes.ErrGPRCNotSupportedForLearner: any call but serializable Range and Status on a learner.</summary>
        public static RpcException NotSupportedForLearner => New(StatusCode.Unavailable, "etcdserver: rpc not supported for learner");

        /// <summary>rpctypes.ErrGRPCTooManyLearners: a learner add beyond the limit (MAX_LEARNERS, etcd's one).</summary>
        public static RpcException TooManyLearners => New(StatusCode.FailedPrecondition, "etcdserver: too many learner members in cluster");

        public static RpcException Timeout => New(StatusCode.Unavailable, "etcdserver: request timed out");

        /// <summary>rpctypes.ErrGRPCStopped: a streaming call ended because this member is shutting down (the client
        /// reconnects, to another endpoint if it has one). Used on every front door's streams (<see cref="StoppableCallContext"/>).</summary>
        public static RpcException Stopped => New(StatusCode.Unavailable, "etcdserver: server stopped");

        /// <summary>rpctypes.ErrGRPCLeaderChanged: a request pending across a leader change (here: a forwarded call
        /// whose leader lost leadership before it answered, <see cref="LeaderChangedException"/>).</summary>
        public static RpcException LeaderChanged => New(StatusCode.Unavailable, "etcdserver: leader changed");

        public static RpcException ValueProvided => New(StatusCode.InvalidArgument, "etcdserver: value is provided");

        public static RpcException LeaseProvided => New(StatusCode.InvalidArgument, "etcdserver: lease is provided");

        public static RpcException InvalidSortOption => New(StatusCode.InvalidArgument, "etcdserver: invalid sort option");

        public static RpcException AuthNotEnabled => New(StatusCode.FailedPrecondition, "etcdserver: authentication is not enabled");

        /// <summary>etcd's answer to an auth refusal (rpctypes' auth errors; no credentials at all is etcd's
        /// "user name is empty", as etcd answers a request without a token once auth is on).</summary>
        public static RpcException Auth(AuthError error) => error switch
        {
            AuthError.UserEmpty or AuthError.Unauthenticated => New(StatusCode.InvalidArgument, "etcdserver: user name is empty"),
            AuthError.UserAlreadyExists => New(StatusCode.FailedPrecondition, "etcdserver: user name already exists"),
            AuthError.UserNotFound => New(StatusCode.FailedPrecondition, "etcdserver: user name not found"),
            AuthError.RoleEmpty => New(StatusCode.InvalidArgument, "etcdserver: role name is empty"),
            AuthError.RoleAlreadyExists => New(StatusCode.FailedPrecondition, "etcdserver: role name already exists"),
            AuthError.RoleNotFound => New(StatusCode.FailedPrecondition, "etcdserver: role name not found"),
            AuthError.RoleNotGranted => New(StatusCode.FailedPrecondition, "etcdserver: role is not granted to the user"),
            AuthError.PermissionNotGranted => New(StatusCode.FailedPrecondition, "etcdserver: permission is not granted to the role"),
            AuthError.RootUserNotExist => New(StatusCode.FailedPrecondition, "etcdserver: root user does not exist"),
            AuthError.RootRoleNotExist => New(StatusCode.FailedPrecondition, "etcdserver: root user does not have root role"),
            AuthError.InvalidAuthManagement => New(StatusCode.InvalidArgument, "etcdserver: invalid auth management"),
            AuthError.AuthNotEnabled => AuthNotEnabled,
            AuthError.AuthFailed => New(StatusCode.InvalidArgument, "etcdserver: authentication failed, invalid user ID or password"),
            AuthError.InvalidToken => New(StatusCode.Unauthenticated, "etcdserver: invalid auth token"),
            AuthError.PermissionDenied => New(StatusCode.PermissionDenied, "etcdserver: permission denied"),
            AuthError.TooManyRequests => New(StatusCode.ResourceExhausted, "etcdserver: too many requests"),
            AuthError.AuthOldRevision => New(StatusCode.InvalidArgument, "etcdserver: revision of auth store is old"),
            _ => New(StatusCode.Internal, "etcdserver: internal error"),
        };

        /// <summary>A call RaftKv does not serve (yet): UNIMPLEMENTED with what and why.</summary>
        public static RpcException Unimplemented(string what) => New(StatusCode.Unimplemented, "raftkv: " + what);

        private static RpcException New(StatusCode code, string message) => new(new Status(code, message));
    }
}
