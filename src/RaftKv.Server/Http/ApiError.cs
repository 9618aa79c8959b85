using System.Text.Json;
using RaftKv.Replication.Api;
using RaftKv.Storage;

namespace RaftKv.Server.Http;

/// <summary>Maps exceptions to the JSON error contract <c>{"error": "...", "code": "..."}</c> with a
/// fitting status. Nothing a client sends may produce a 500.</summary>
public static class ApiError
{
    public static IResult Result(int status, string code, string message)
        => Results.Json(new ErrorBody(message, code), statusCode: status);

    public static (int Status, string Code, string Message) Map(Exception e) => e switch
    {
        ValueTooLargeException => (413, "too_large", e.Message),
        BadHttpRequestException { StatusCode: 413 } => (413, "too_large", "request body too large"),
        BadHttpRequestException b => (b.StatusCode, "bad_request", b.Message),
        JsonException => (400, "invalid_json", "malformed JSON: " + e.Message),
        ArgumentException => (400, "invalid_argument", e.Message),
        FormatException => (400, "invalid_argument", e.Message),
        NotLeaderException nl => (503, "no_leader", nl.Leader is null ? "no leader is known; retry later" : e.Message),
        UnavailableException u => (503, u.OutcomeUnknown ? "outcome_unknown" : "unavailable", e.Message),
        RemoteTierUnavailableException => (503, "object_store_unavailable", e.Message),
        OperationCanceledException => (503, "cancelled", "the request was cancelled"),
        InvalidOperationException when e.Message.Contains("retained history", StringComparison.Ordinal) => (400, "compacted", e.Message),
        _ => (500, "internal", "internal error: " + e.GetType().Name),
    };

    public static IResult From(Exception e)
    {
        var (status, code, message) = Map(e);
        return Result(status, code, message);
    }

    public sealed record ErrorBody(string Error, string Code);
}
