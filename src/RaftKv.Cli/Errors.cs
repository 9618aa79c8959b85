using System.Security.Authentication;
using Grpc.Core;

namespace RaftKv.Cli;

/// <summary>
/// Turns what a command threw into one line for stderr and an <see cref="ExitCode"/>: by exception type and gRPC
/// status code, never by message text. Only an unexpected exception (a bug) prints its stack trace, and only with
/// KVCTL_DEBUG=1.
/// </summary>
public static class Errors
{
    public static (ExitCode Code, string Message) Describe(Exception e, KvctlSettings? settings) => e switch
    {
        UsageException u => (ExitCode.Usage, u.Message),
        KvctlException k => (k.Code, k.Message),
        RpcException r => Rpc(r, settings),
        HttpRequestException h => (ExitCode.Unavailable, $"HTTP request failed: {h.Message}"),
        TaskCanceledException or TimeoutException => (ExitCode.Unavailable, $"timed out after {settings?.CommandTimeout.TotalSeconds ?? 0:0.#} s (--command-timeout)"),
        OperationCanceledException => (ExitCode.Failed, "cancelled"),
        AuthenticationException a => (ExitCode.Unavailable, $"TLS handshake failed: {a.Message}"),
        InvalidDataException d => (ExitCode.Failed, d.Message),
        FileNotFoundException f => (ExitCode.Usage, $"no such file: {f.FileName ?? f.Message}"),
        DirectoryNotFoundException d => (ExitCode.Usage, d.Message),
        IOException or UnauthorizedAccessException => (ExitCode.Failed, e.Message),
        _ => (ExitCode.Failed, Environment.GetEnvironmentVariable("KVCTL_DEBUG") == "1" ? e.ToString() : $"unexpected error ({e.GetType().Name}): {e.Message} (KVCTL_DEBUG=1 shows the stack trace)"),
    };

    /// <summary>The server's message of a gRPC error, or the transport's reason when there is none.</summary>
    public static string Detail(RpcException e)
    {
        var detail = !string.IsNullOrEmpty(e.Status.Detail) ? e.Status.Detail : e.StatusCode.ToString();
        return e.Status.DebugException?.GetBaseException() is { } cause && !detail.Contains(cause.Message, StringComparison.Ordinal)
            ? $"{detail} ({cause.Message})"
            : detail;
    }

    private static (ExitCode, string) Rpc(RpcException e, KvctlSettings? settings)
    {
        var code = e.StatusCode switch
        {
            StatusCode.Unavailable or StatusCode.DeadlineExceeded or StatusCode.Internal or StatusCode.Cancelled => ExitCode.Unavailable,
            StatusCode.Unauthenticated or StatusCode.PermissionDenied => ExitCode.Auth,
            StatusCode.InvalidArgument or StatusCode.NotFound or StatusCode.FailedPrecondition or StatusCode.AlreadyExists
                or StatusCode.OutOfRange or StatusCode.ResourceExhausted or StatusCode.Unimplemented or StatusCode.Aborted => ExitCode.Refused,
            _ => ExitCode.Failed,
        };
        var where = code == ExitCode.Unavailable && settings is not null ? $" (endpoints {string.Join(',', settings.Endpoints)})" : string.Empty;
        var hint = e.StatusCode == StatusCode.Unauthenticated && settings?.User is null ? "; auth is on: pass --user name:password" : string.Empty;
        return (code, $"{e.StatusCode}: {Detail(e)}{where}{hint}");
    }
}
