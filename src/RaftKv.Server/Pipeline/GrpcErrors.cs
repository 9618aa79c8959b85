using Grpc.Core;
using RaftKv.Replication.Api;

namespace RaftKv.Server.Pipeline;

/// <summary>The gRPC front door's error mapping: exception → status (see proto/raftkv/v1/kv.proto).
/// Domain errors are classified by <see cref="ErrorKinds"/>; an <see cref="RpcException"/> (e.g. the
/// leader's answer to a forwarded call) passes through unchanged. The etcd v3 services answer with
/// etcd's own codes and strings instead (<see cref="MapEtcd"/>, GrpcErrors.Etcd.cs); <see cref="Map(Exception, string)"/>
/// picks the table by the called method's service.</summary>
public static partial class GrpcErrors
{
    /// <summary>Trailer carrying the leader's gRPC address on FAILED_PRECONDITION (not the leader).</summary>
    public const string LeaderTrailer = "raftkv-leader";

    /// <summary>Maps for the front door that owns <paramref name="fullMethod"/> ("/package.Service/Method").</summary>
    public static RpcException Map(Exception e, string fullMethod) => Map(e, fullMethod, out _);

    /// <summary><see cref="Map(Exception, string)"/>, and the status the error has in its table before etcd's Lock and
    /// Election services turn it into a Go error (UNKNOWN, <see cref="AsGoError"/>): what it is, for logging.</summary>
    public static RpcException Map(Exception e, string fullMethod, out StatusCode classified)
    {
        var mapped = IsEtcdMethod(fullMethod) ? MapEtcd(e) : Map(e);
        classified = e is Server.Etcd.Concurrency.ConcurrencyException ? StatusCode.FailedPrecondition : mapped.StatusCode; // a refusal
        return IsEtcdConcurrencyMethod(fullMethod) ? AsGoError(mapped) : mapped;
    }

    /// <summary>Trailer carrying the error's code on every native (raftkv.v1) error: the HTTP API's <c>code</c> for the
    /// same error (<see cref="ApiError"/>; <c>no_leader</c>, <c>too_many_learners</c>, …), so clients tell a refusal to
    /// retry elsewhere from one that stands without reading the message (FAILED_PRECONDITION is both).</summary>
    public const string CodeTrailer = "raftkv-code";

    public static RpcException Map(Exception e)
    {
        if (e is RpcException rpc)
        {
            return rpc; // e.g. the leader's answer to a forwarded call, its trailers included
        }

        var kind = ErrorKinds.Of(e);
        var trailers = new Metadata { { CodeTrailer, ApiError.Map(e).Code } };
        if (kind == ErrorKind.NotLeader && ((NotLeaderException)e).Leader is { GrpcAddress.Length: > 0 } l)
        {
            trailers.Add(LeaderTrailer, l.GrpcAddress);
        }

        return new RpcException(StatusOf(kind, e), trailers);
    }

    private static Status StatusOf(ErrorKind kind, Exception e) => kind switch
    {
        ErrorKind.NotLeader => new Status(StatusCode.FailedPrecondition, e.Message),
        ErrorKind.OutcomeUnknown or ErrorKind.ForwardTimeout => new Status(StatusCode.DeadlineExceeded, e.Message),
        ErrorKind.LeaderChanged => new Status(StatusCode.Unavailable, e.Message),
        ErrorKind.Unavailable or ErrorKind.ObjectStoreUnavailable => new Status(StatusCode.Unavailable, e.Message),
        ErrorKind.InvalidArgument or ErrorKind.TooLarge or ErrorKind.FutureRevision or ErrorKind.TooManyTxnOps
            or ErrorKind.DuplicateKeyInTxn or ErrorKind.LeaseNotFound or ErrorKind.KeyNotFound or ErrorKind.LeaseExists or ErrorKind.LeaseTtlTooLarge
            => new Status(StatusCode.InvalidArgument, e.Message),
        ErrorKind.NoSpace => new Status(StatusCode.ResourceExhausted, e.Message),
        ErrorKind.Compacted => new Status(StatusCode.OutOfRange, e.Message),
        ErrorKind.Unauthenticated => new Status(StatusCode.Unauthenticated, e.Message),
        ErrorKind.PermissionDenied => new Status(StatusCode.PermissionDenied, e.Message),
        ErrorKind.TooManyRequests => new Status(StatusCode.ResourceExhausted, e.Message),
        ErrorKind.AuthRefused or ErrorKind.TooManyLearners or ErrorKind.MemberUpdateRefused => new Status(StatusCode.FailedPrecondition, e.Message),
        ErrorKind.MemberNotFound => new Status(StatusCode.NotFound, e.Message),
        ErrorKind.Cancelled => new Status(StatusCode.Cancelled, "cancelled"),
        _ => new Status(StatusCode.Internal, e.GetType().Name + ": " + e.Message),
    };
}
