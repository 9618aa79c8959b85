using RaftKv.Server.Observability;

namespace RaftKv.Server.Pipeline;

/// <summary>HTTP middleware: times and counts every <c>/kv</c> request (op = lower-case method,
/// outcome from the status code: &lt; 400 ok, &lt; 500 client_error, else error).</summary>
public sealed class HttpOperationMetrics(RequestDelegate next)
{
    public const string Api = "http";

    public Task InvokeAsync(HttpContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var path = context.Request.Path.Value ?? string.Empty;
        return path.StartsWith("/kv", StringComparison.Ordinal) ? TimeAsync(context) : next(context); // no async frame for other routes
    }

    private async Task TimeAsync(HttpContext context)
    {
        var op = context.Request.Method.ToLowerInvariant();
        using (OperationMetrics.Time(Api, op))
        {
            await next(context).ConfigureAwait(false);
        }

        var status = context.Response.StatusCode;
        OperationMetrics.Count(Api, op, status < 400 ? "ok" : status < 500 ? "client_error" : "error");
    }
}
