using System.Text.Json;
using RaftKv.Replication.Api;

namespace RaftKv.Server.Pipeline;

/// <summary>The HTTP front door's error mapping: exception → status and the JSON error contract
/// <c>{"error": "...", "code": "..."}</c>. Domain errors are classified by <see cref="ErrorKinds"/>;
/// only the HTTP-specific ones (request body, JSON) are recognised here. Nothing a client sends may
/// produce a 500.</summary>
public static class ApiError
{
    public static IResult Result(int status, string code, string message)
        => Results.Json(new ErrorBody(message, code), statusCode: status);

    public static (int Status, string Code, string Message) Map(Exception e) => e switch
    {
        BadHttpRequestException { StatusCode: 413 } => (413, "too_large", "request body too large"),
        BadHttpRequestException { StatusCode: 400, InnerException: JsonException j } => (400, "invalid_json", "malformed JSON: " + j.Message),
        BadHttpRequestException { StatusCode: 400 } b => (400, "invalid_argument", b.Message), // e.g. ?target=abc for a number (RouteHandlerOptions.ThrowOnBadRequest)
        BadHttpRequestException b => (b.StatusCode, "bad_request", b.Message),
        JsonException => (400, "invalid_json", "malformed JSON: " + e.Message),
        _ => ErrorKinds.Of(e) switch
        {
            ErrorKind.TooLarge => (413, "too_large", e.Message),
            ErrorKind.InvalidArgument or ErrorKind.FutureRevision or ErrorKind.TooManyTxnOps or ErrorKind.DuplicateKeyInTxn
                or ErrorKind.LeaseNotFound or ErrorKind.KeyNotFound or ErrorKind.LeaseExists or ErrorKind.LeaseTtlTooLarge => (400, "invalid_argument", e.Message),
            ErrorKind.NotLeader => (503, "no_leader", ((NotLeaderException)e).Leader is null ? "no leader is known; retry later" : e.Message),
            ErrorKind.Unavailable => (503, "unavailable", e.Message),
            ErrorKind.OutcomeUnknown => (503, "outcome_unknown", e.Message),
            ErrorKind.LeaderChanged => (503, "leader_changed", e.Message),
            ErrorKind.ForwardTimeout => (504, "leader_timeout", e.Message),
            ErrorKind.ObjectStoreUnavailable => (503, "object_store_unavailable", e.Message),
            ErrorKind.NoSpace => (507, "no_space", e.Message),
            ErrorKind.Unauthenticated => (401, ((AuthException)e).Error switch
            {
                AuthError.InvalidToken => "invalid_token",
                AuthError.AuthFailed => "auth_failed",
                _ => "unauthenticated",
            }, e.Message),
            ErrorKind.PermissionDenied => (403, "permission_denied", e.Message),
            ErrorKind.TooManyRequests => (429, "too_many_requests", e.Message),
            ErrorKind.AuthRefused => (((AuthException)e).Error == AuthError.AuthNotEnabled ? 400 : 409, "auth_refused", e.Message),
            ErrorKind.TooManyLearners => (409, "too_many_learners", e.Message),
            ErrorKind.MemberUpdateRefused => (409, "member_update_refused", e.Message),
            ErrorKind.MemberNotFound => (404, "not_found", e.Message),
            ErrorKind.Cancelled => (503, "cancelled", "the request was cancelled"),
            ErrorKind.Compacted => (400, "compacted", e.Message),
            _ => (500, "internal", "internal error: " + e.GetType().Name),
        },
    };

    public static IResult From(Exception e)
    {
        var (status, code, message) = Map(e);
        return Result(status, code, message);
    }

    public sealed record ErrorBody(string Error, string Code);
}
