using Grpc.Core;
using Grpc.Net.Client;
using RaftKv.Protocol.V1;

namespace RaftKv.Client;

/// <summary>
/// Membership changes. Unlike writes they carry no request id, so a retry is not deduplicated: when an attempt fails
/// with an outcome the client cannot know (a timeout, a dropped connection, DEADLINE_EXCEEDED — the server's "outcome
/// unknown" for a change that lost its leader after appending) and the retry fails too, the change may have applied on
/// the first attempt: a retried removal then answers NOT_FOUND, a retried addition or promotion a refusal. Before such
/// an error reaches the caller, the client reads the member list and answers success if the change is there (the
/// member gone, listed, or a voter). Only a refusal that says nothing was proposed (FAILED_PRECONDITION: not the
/// leader) leaves the outcome known.
/// </summary>
public sealed partial class RaftKvClient
{
    public Task<AddMemberResponse> AddMemberAsync(AddMemberRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        return ChangeMembershipAsync(
            (c, o) => new Cluster.ClusterClient(c).AddMemberAsync(request, o).ResponseAsync,
            members => members.Any(m => string.Equals(m.RaftAddress, request.RaftAddress, StringComparison.OrdinalIgnoreCase) && m.IsLearner == request.IsLearner),
            m => new AddMemberResponse { Header = m.Header, Members = { m.Members } },
            cancellationToken);
    }

    /// <summary>Makes learner <paramref name="id"/> a voter; UNAVAILABLE while it has not caught up with the leader (retry).</summary>
    public Task<PromoteMemberResponse> PromoteMemberAsync(ulong id, CancellationToken cancellationToken = default)
        => ChangeMembershipAsync(
            (c, o) => new Cluster.ClusterClient(c).PromoteMemberAsync(new PromoteMemberRequest { Id = id }, o).ResponseAsync,
            members => members.Any(m => m.Id == id && !m.IsLearner),
            m => new PromoteMemberResponse { Header = m.Header, Members = { m.Members } },
            cancellationToken);

    public Task<RemoveMemberResponse> RemoveMemberAsync(ulong id, CancellationToken cancellationToken = default)
        => ChangeMembershipAsync(
            (c, o) => new Cluster.ClusterClient(c).RemoveMemberAsync(new RemoveMemberRequest { Id = id }, o).ResponseAsync,
            members => members.Count > 0 && members.All(m => m.Id != id),
            m => new RemoveMemberResponse { Header = m.Header, Members = { m.Members } },
            cancellationToken);

    private async Task<T> ChangeMembershipAsync<T>(
        Func<GrpcChannel, CallOptions, Task<T>> call,
        Func<IReadOnlyList<Member>, bool> applied,
        Func<MembersResponse, T> answer,
        CancellationToken cancellationToken)
    {
        var ambiguous = false;
        try
        {
            return await CallAsync(call, cancellationToken, code => ambiguous |= code != StatusCode.FailedPrecondition).ConfigureAwait(false);
        }
        catch (RpcException e) when (ambiguous && e.StatusCode is not (StatusCode.Unauthenticated or StatusCode.PermissionDenied or StatusCode.Cancelled))
        {
            // The list may come from a member that has not applied the change yet: then the error stands (conservative).
            var members = await MembersAsync(cancellationToken).ConfigureAwait(false);
            if (applied(members.Members))
            {
                return answer(members);
            }

            throw;
        }
    }
}
