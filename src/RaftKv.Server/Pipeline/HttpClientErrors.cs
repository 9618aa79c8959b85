namespace RaftKv.Server.Pipeline;

/// <summary>HTTP middleware: an exception that maps to a known answer (any status but 500, see
/// <see cref="ApiError"/>: 4xx for bad input, 503 no leader or quorum, 507 no space) becomes its JSON
/// answer here. A 4xx is not logged; a 503/507 is logged once as a warning with its code and message,
/// without a stack trace. Only what maps to 500 reaches the exception handler and its "unhandled
/// exception" error log (<see cref="HttpPipeline"/>).</summary>
public sealed partial class HttpClientErrors(RequestDelegate next, ILogger<HttpClientErrors> logger)
{
    public async Task InvokeAsync(HttpContext context)
    {
        try
        {
            await next(context).ConfigureAwait(false);
        }
        catch (Exception e) when (!context.Response.HasStarted && ApiError.Map(e) is { Status: not 500 } mapped)
        {
            if (mapped.Status >= 500)
            {
                LogServerSideRefusal(logger, context.Request.Method, context.Request.Path, mapped.Status, mapped.Code, mapped.Message);
            }

            await ApiError.From(e).ExecuteAsync(context).ConfigureAwait(false);
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "{Method} {Path} answered {Status} {Code}: {Message}")]
    private static partial void LogServerSideRefusal(ILogger logger, string method, string path, int status, string code, string message);
}
