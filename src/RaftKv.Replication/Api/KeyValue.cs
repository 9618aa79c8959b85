using RaftKv.Storage;

namespace RaftKv.Replication.Api;

/// <summary>A key at a revision, with etcd's MVCC metadata (docs/architecture.md, "MVCC").</summary>
/// <param name="Key">The user key.</param>
/// <param name="Value">The value (empty for keys-only reads and delete events).</param>
/// <param name="CreateRevision">Revision of the put that created the key since its last delete.</param>
/// <param name="ModRevision">Revision of the key's last put (the native API's <c>version</c>).</param>
/// <param name="Version">Number of puts since creation (1 after create; reset by delete).</param>
/// <param name="Lease">The lease id the key is attached to; 0 = none.</param>
/// <param name="ExpiresAtUnixMs">Per-key TTL expiry on the logical clock (native API); 0 = never.</param>
/// <param name="Tier">Where the value was found.</param>
public readonly record struct KeyValue(ReadOnlyMemory<byte> Key, ReadOnlyMemory<byte> Value, long CreateRevision,
    long ModRevision, long Version, long Lease, long ExpiresAtUnixMs = 0, Tier Tier = Tier.Memory);
