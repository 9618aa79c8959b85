namespace RaftKv.Server.Etcd.Concurrency;

/// <summary>A lock acquired: the key that holds it and the header revision etcd answers with.</summary>
public sealed record LockHeld(byte[] Key, long Revision);
