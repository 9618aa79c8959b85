using System.Text;

namespace RaftKv.Replication.State;

/// <summary>
/// Keys the state machine keeps for itself inside the LSM (so they are part of every snapshot):
/// the logical clock, the request-id dedup table and the alarms. They start with 0x00 0xFF, a prefix clients
/// may not use (rejected at validation) and that reads skip.
/// </summary>
internal static class ReservedKeys
{
    public static readonly byte[] Prefix = [0x00, 0xFF];

    public static readonly byte[] Clock = Make("clock");

    /// <summary>The TTL horizon record (<see cref="KvState"/>'s <c>KvState.TtlHorizon.cs</c>): 8 bytes, little-endian.</summary>
    public static readonly byte[] TtlHorizon = Make("ttl-horizon");

    public static bool IsReserved(ReadOnlySpan<byte> key) => key.StartsWith(Prefix);

    public static byte[] Request(string requestId) => Make("req/" + requestId);

    /// <summary>Prefix of the alarm records: <c>alarm/{type}/{memberId}</c> (decimal), value = the
    /// detecting check's index (8 bytes little-endian, so always local: see <see cref="Storage.Tables.KeysFile"/>).</summary>
    public static readonly byte[] AlarmPrefix = Make("alarm/");

    public static byte[] Alarm(Api.AlarmType type, long memberId) => Make(string.Create(System.Globalization.CultureInfo.InvariantCulture, $"alarm/{(int)type}/{memberId}"));

    /// <summary>Prefix of the learner records (<see cref="LearnerTable"/>): <c>learner/{raft}\n{id}\n{grpc}\n{http}</c>
    /// — everything in the key, the value one byte, so the record stays readable when its table is archived.</summary>
    public static readonly byte[] LearnerPrefix = Make("learner/");

    public static byte[] Learner(Api.MemberInfo m) => Make(string.Create(System.Globalization.CultureInfo.InvariantCulture, $"learner/{m.RaftAddress}\n{m.Id}\n{m.GrpcAddress}\n{m.HttpAddress}"));

    /// <summary>Prefix of the moved-member records (<see cref="LearnerTable.Moved"/>, etcd <c>MemberUpdate</c>):
    /// <c>moved/{new raft}\n{id}\n{grpc}\n{http}</c>, laid out as the learner records.</summary>
    public static readonly byte[] MovedPrefix = Make("moved/");

    public static byte[] Moved(Api.MemberInfo m) => Make(string.Create(System.Globalization.CultureInfo.InvariantCulture, $"moved/{m.RaftAddress}\n{m.Id}\n{m.GrpcAddress}\n{m.HttpAddress}"));

    /// <summary>Prefix of the cluster uid record (<c>KvState.ClusterUid.cs</c>): <c>cluster-uid/{32 lowercase hex}</c>, the
    /// uid in the key and the value one byte (readable when its table is archived). At most one such record.</summary>
    public static readonly byte[] ClusterUidPrefix = Make("cluster-uid/");

    public static byte[] ClusterUid(ReadOnlySpan<byte> uid) => Make("cluster-uid/" + Convert.ToHexStringLower(uid));

    private static byte[] Make(string name) => [.. Prefix, .. Encoding.UTF8.GetBytes(name)];
}
