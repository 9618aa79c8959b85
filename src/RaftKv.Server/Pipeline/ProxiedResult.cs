namespace RaftKv.Server.Pipeline;

/// <summary>Replays the leader's response (status, content type, body) to the client.</summary>
public sealed class ProxiedResult(int status, string? contentType, byte[] body) : IResult
{
    public async Task ExecuteAsync(HttpContext httpContext)
    {
        httpContext.Response.StatusCode = status;
        if (contentType is not null)
        {
            httpContext.Response.ContentType = contentType;
        }

        httpContext.Response.ContentLength = body.Length;
        await httpContext.Response.Body.WriteAsync(body, httpContext.RequestAborted).ConfigureAwait(false);
    }
}
