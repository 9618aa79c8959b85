namespace RaftKv.Replication.Backup;

/// <summary>
/// One record of an etcd backend's <c>key</c> bucket (what <see cref="EtcdImport"/> reads): the change
/// <c>(Revision, Sub)</c> of <paramref name="Key"/>, a put with its <c>mvccpb.KeyValue</c> fields or a delete
/// (a tombstone: only the key). Below etcd's compact revision these are the versions its compaction kept.
/// </summary>
/// <param name="Revision">The main revision (the bucket key's first u64).</param>
/// <param name="Sub">The change's position within its revision (the bucket key's second u64).</param>
/// <param name="Delete">A tombstone (the bucket key ends with 't').</param>
/// <param name="Key">The user key.</param>
/// <param name="Value">The value (empty for a delete).</param>
/// <param name="CreateRevision">The key's create revision (0 for a delete).</param>
/// <param name="Version">The key's version (0 for a delete).</param>
/// <param name="Lease">The key's lease id (0 = none).</param>
public readonly record struct EtcdChange(long Revision, long Sub, bool Delete, byte[] Key, byte[] Value, long CreateRevision, long Version, long Lease);
