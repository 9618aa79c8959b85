namespace RaftKv.Server.Etcd.Concurrency;

/// <summary>A candidate's hold on an election (etcd's <c>LeaderKey</c>): the election name, the candidate's key
/// (name + "/" + lease in hex), the key's create revision and its lease.</summary>
public sealed record ElectionLeader(byte[] Name, byte[] Key, long Rev, long Lease);
