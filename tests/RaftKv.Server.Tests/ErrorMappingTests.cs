using System.Text.Json;
using Grpc.Core;
using Microsoft.AspNetCore.Http;
using RaftKv.Replication.Api;
using RaftKv.Server.Pipeline;
using RaftKv.Storage;

namespace RaftKv.Server.Tests;

/// <summary>The error table of docs/architecture.md ("Errors"): each error type → its kind → the HTTP
/// status + JSON code and the gRPC status. Errors are recognised by type, never by message text.</summary>
public sealed class ErrorMappingTests
{
    private static readonly MemberInfo Leader = new(2, "127.0.0.1:7002", "127.0.0.1:50052", "127.0.0.1:8082", true, false, true);

    public static TheoryData<Exception, ErrorKind, int, string, StatusCode> Table() => new()
    {
        { new ValueTooLargeException("value of 9 MiB exceeds 8 MiB"), ErrorKind.TooLarge, 413, "too_large", StatusCode.InvalidArgument },
        { new ArgumentException("key must not be empty"), ErrorKind.InvalidArgument, 400, "invalid_argument", StatusCode.InvalidArgument },
        { new FormatException("bad base64"), ErrorKind.InvalidArgument, 400, "invalid_argument", StatusCode.InvalidArgument },
        { new NotLeaderException(Leader), ErrorKind.NotLeader, 503, "no_leader", StatusCode.FailedPrecondition },
        { new NotLeaderException(null), ErrorKind.NotLeader, 503, "no_leader", StatusCode.FailedPrecondition },
        { new UnavailableException("no quorum"), ErrorKind.Unavailable, 503, "unavailable", StatusCode.Unavailable },
        { new UnavailableException("timed out", outcomeUnknown: true), ErrorKind.OutcomeUnknown, 503, "outcome_unknown", StatusCode.DeadlineExceeded },
        { new RemoteTierUnavailableException("s3 down"), ErrorKind.ObjectStoreUnavailable, 503, "object_store_unavailable", StatusCode.Unavailable },
        { new HistoryCompactedException(5, 100), ErrorKind.Compacted, 400, "compacted", StatusCode.OutOfRange },
        { new AuthException(AuthError.UserEmpty, "user name is empty"), ErrorKind.InvalidArgument, 400, "invalid_argument", StatusCode.InvalidArgument },
        { new AuthException(AuthError.RoleEmpty, "role name is empty"), ErrorKind.InvalidArgument, 400, "invalid_argument", StatusCode.InvalidArgument },
        { new MemberUpdateRefusedException(2, "it is the leader"), ErrorKind.MemberUpdateRefused, 409, "member_update_refused", StatusCode.FailedPrecondition },
        { new MemberNotFoundException(3), ErrorKind.MemberNotFound, 404, "not_found", StatusCode.NotFound }, // an ArgumentException, yet not invalid_argument
        { new OperationCanceledException(), ErrorKind.Cancelled, 503, "cancelled", StatusCode.Cancelled },
        { new LeaderChangedException(2), ErrorKind.LeaderChanged, 503, "leader_changed", StatusCode.Unavailable },
        { new DotNext.Net.Cluster.Consensus.Raft.NotLeaderException(), ErrorKind.LeaderChanged, 503, "leader_changed", StatusCode.Unavailable },
        { new ForwardTimeoutException(2, TimeSpan.FromSeconds(7)), ErrorKind.ForwardTimeout, 504, "leader_timeout", StatusCode.DeadlineExceeded },
        { new RaftKv.Storage.IO.DiskFullException("no space left on device writing x"), ErrorKind.NoSpace, 507, "no_space", StatusCode.ResourceExhausted },
        { new NoSpaceException("the NOSPACE alarm of member 1 is active"), ErrorKind.NoSpace, 507, "no_space", StatusCode.ResourceExhausted },
        { new InvalidOperationException("the retained history is gone"), ErrorKind.Internal, 500, "internal", StatusCode.Internal },
        { new IOException("disk"), ErrorKind.Internal, 500, "internal", StatusCode.Internal },
    };

    [Theory]
    [MemberData(nameof(Table))]
    public void EachErrorTypeMapsToOneKindAndOneAnswerPerFrontDoor(Exception e, ErrorKind kind, int httpStatus, string httpCode, StatusCode grpcStatus)
    {
        Assert.Equal(kind, ErrorKinds.Of(e));
        var (status, code, _) = ApiError.Map(e);
        Assert.Equal(httpStatus, status);
        Assert.Equal(httpCode, code);
        var rpc = GrpcErrors.Map(e);
        Assert.Equal(grpcStatus, rpc.StatusCode);
        Assert.Equal(httpCode, rpc.Trailers.GetValue(GrpcErrors.CodeTrailer)); // one code per error on both doors
    }

    [Fact]
    public void MessageTextDoesNotDecideTheKind()
    {
        // Before typed errors, "retained history" in any InvalidOperationException's message meant "compacted".
        var impostor = new InvalidOperationException("watch start index 1 is older than the retained history (oldest 7)");
        Assert.Equal(ErrorKind.Internal, ErrorKinds.Of(impostor));
        Assert.Equal(ErrorKind.Compacted, ErrorKinds.Of(new HistoryCompactedException(1, 7)));
    }

    [Fact]
    public void HttpOnlyErrorsAreMappedByTheHttpFrontDoor()
    {
        Assert.Equal((413, "too_large"), Pick(ApiError.Map(new BadHttpRequestException("too big", 413))));
        Assert.Equal((400, "invalid_argument"), Pick(ApiError.Map(new BadHttpRequestException("Failed to bind parameter \"long? target\" from \"abc\".", 400))));
        Assert.Equal((400, "invalid_json"), Pick(ApiError.Map(new BadHttpRequestException("bad body", 400, new JsonException("x")))));
        Assert.Equal((431, "bad_request"), Pick(ApiError.Map(new BadHttpRequestException("headers too large", 431))));
        Assert.Equal((400, "invalid_json"), Pick(ApiError.Map(new JsonException("x"))));
    }

    [Fact]
    public void NotLeaderOverGrpcCarriesTheLeaderAddressInATrailer()
    {
        var rpc = GrpcErrors.Map(new NotLeaderException(Leader));
        Assert.Equal("127.0.0.1:50052", rpc.Trailers.GetValue(GrpcErrors.LeaderTrailer));
        Assert.Null(GrpcErrors.Map(new NotLeaderException(null)).Trailers.GetValue(GrpcErrors.LeaderTrailer));
    }

    [Fact]
    public void AnRpcExceptionPassesThroughUnchanged()
    {
        var fromLeader = new RpcException(new Status(StatusCode.InvalidArgument, "from the leader"));
        Assert.Same(fromLeader, GrpcErrors.Map(fromLeader));
    }

    private static (int, string) Pick((int Status, string Code, string Message) m) => (m.Status, m.Code);
}
