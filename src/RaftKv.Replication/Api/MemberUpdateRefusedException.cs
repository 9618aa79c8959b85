namespace RaftKv.Replication.Api;

/// <summary>A peer URL change (etcd <c>MemberUpdate</c>) refused because doing it now could cost the cluster its
/// quorum or is not supported for that member; the message says what to do first. FAILED_PRECONDITION (gRPC),
/// 409 <c>member_update_refused</c> (HTTP).</summary>
public sealed class MemberUpdateRefusedException(long memberId, string reason)
    : InvalidOperationException($"member {memberId} cannot move now: {reason}")
{
    public long MemberId { get; } = memberId;
}
