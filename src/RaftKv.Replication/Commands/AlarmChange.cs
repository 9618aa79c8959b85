using RaftKv.Replication.Api;

namespace RaftKv.Replication.Commands;

/// <summary>The payload of an <see cref="CommandKind.Alarm"/> command.</summary>
/// <param name="Active">True raises the alarm, false disarms it.</param>
/// <param name="Type">The alarm type.</param>
/// <param name="MemberId">The member it is about; 0 with <paramref name="Active"/> false disarms the type for every member.</param>
/// <param name="Index">CORRUPT: the hash checkpoint index at which it was detected; NOSPACE: the proposer's
/// applied index (0 when disarming).</param>
public sealed record AlarmChange(bool Active, AlarmType Type, long MemberId, long Index);
