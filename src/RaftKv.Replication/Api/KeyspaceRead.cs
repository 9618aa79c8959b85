namespace RaftKv.Replication.Api;

/// <summary>The whole user key space at one revision, streamed (<see cref="IKvNode.ReadKeyspaceAsync"/>).</summary>
/// <param name="Revision">The revision the keys are read at.</param>
/// <param name="CurrentRevision">This replica's applied revision when the read began (etcd's header revision).</param>
/// <param name="Keys">Every live key at <paramref name="Revision"/>, in key order, once each, with its value and
/// metadata at that revision. Enumerate it once.</param>
public sealed record KeyspaceRead(long Revision, long CurrentRevision, IAsyncEnumerable<KeyValue> Keys);
