namespace RaftKv.Server.Pipeline;

/// <summary>HTTP middleware: an exception that maps to a client error (status &lt; 500, see
/// <see cref="ApiError"/>) becomes its JSON answer here, without the "unhandled exception" log of the
/// exception handler, which answers the rest (<see cref="HttpPipeline"/>).</summary>
public sealed class HttpClientErrors(RequestDelegate next)
{
    public async Task InvokeAsync(HttpContext context)
    {
        try
        {
            await next(context).ConfigureAwait(false);
        }
        catch (Exception e) when (!context.Response.HasStarted && ApiError.Map(e).Status < 500)
        {
            await ApiError.From(e).ExecuteAsync(context).ConfigureAwait(false);
        }
    }
}
