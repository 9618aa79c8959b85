using RaftKv.Replication.Api;

namespace RaftKv.Server.Security.Auth;

/// <summary>Why an etcd Watch stream's caller could not be identified (an HttpContext feature set by
/// <see cref="Pipeline.GrpcAuthInterceptor"/>): etcd 3.4 opens a watch stream whatever its credentials and refuses
/// each create instead (created + canceled with the refusal as cancel reason), so the stream is not failed at open.</summary>
public sealed record StreamAuthRefusal(AuthError Error)
{
    public static StreamAuthRefusal? Of(HttpContext? context) => context?.Features.Get<StreamAuthRefusal>();
}
