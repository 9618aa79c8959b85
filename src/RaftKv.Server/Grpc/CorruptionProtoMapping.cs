using RaftKv.Protocol.V1;
using RaftKv.Replication.Api;

namespace RaftKv.Server.Grpc;

/// <summary>The corruption check's messages (<c>Cluster/StateHash</c>, <c>Cluster/CorruptionCheck</c>) to and from the replication API.</summary>
public static class CorruptionProtoMapping
{
    public static StateHashResponse ToProto(StateHash h) => new()
    {
        MemberId = (ulong)h.MemberId,
        Index = (ulong)h.Index,
        Hash = h.Hash ?? string.Empty,
        Keys = (ulong)h.Keys,
        Corruption = h.Corruption ?? string.Empty,
    };

    public static StateHash ToApi(StateHashResponse r)
        => new((long)r.MemberId, (long)r.Index, r.Hash.Length > 0 ? r.Hash : null, (long)r.Keys, r.Corruption.Length > 0 ? r.Corruption : null);

    public static CorruptionCheckResponse ToProto(CorruptionCheckResult r)
    {
        var p = new CorruptionCheckResponse { Index = (ulong)r.Index, Outcome = r.Outcome, Detail = r.Detail };
        p.Hashes.AddRange(r.Hashes.Select(ToProto));
        p.Unanswered.AddRange(r.Unanswered.Select(id => (ulong)id));
        p.Corrupt.AddRange(r.Corrupt.Select(id => (ulong)id));
        return p;
    }

    public static CorruptionCheckResult ToApi(CorruptionCheckResponse p)
        => new((long)p.Index, DateTimeOffset.UtcNow, p.Outcome, p.Hashes.Select(ToApi).ToList(), p.Unanswered.Select(id => (long)id).ToList(), p.Corrupt.Select(id => (long)id).ToList(), p.Detail);
}
