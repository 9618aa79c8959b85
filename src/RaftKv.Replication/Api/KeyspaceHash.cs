using System.Buffers.Binary;

namespace RaftKv.Replication.Api;

/// <summary>
/// RaftKv's hash of the key space at a revision (etcd's Maintenance.HashKV and Hash): CRC-32 (IEEE) over every
/// live key in key order — key bytes, value bytes, then create revision, mod revision, version and lease as
/// little-endian int64. Replicas at the same revision answer the same hash; etcd's value differs (it hashes its
/// backend's history), so compare RaftKv members with each other only. The format is pinned by a test
/// (KeyspaceHashTests): changing it breaks comparisons across a rolling upgrade.
/// </summary>
public static class KeyspaceHash
{
    /// <summary>Hashes the key space at <paramref name="revision"/> (0 = the current one) in one streamed pass
    /// (<see cref="IKvNode.ReadKeyspaceAsync"/>); returns the hash and the header revision.</summary>
    public static async Task<(uint Hash, long HeaderRevision)> ComputeAsync(IKvNode node, long revision, ReadConsistency consistency, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(node);
        var read = await node.ReadKeyspaceAsync(revision, consistency, cancellationToken).ConfigureAwait(false);
        return (await ComputeAsync(read.Keys, cancellationToken).ConfigureAwait(false), read.CurrentRevision);
    }

    /// <summary>The hash of an empty key space (no key at all).</summary>
    public static uint OfNothing => new System.IO.Hashing.Crc32().GetCurrentHashAsUInt32();

    /// <summary>The hash of <paramref name="keys"/> (in key order).</summary>
    public static async Task<uint> ComputeAsync(IAsyncEnumerable<KeyValue> keys, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(keys);
        var crc = new System.IO.Hashing.Crc32();
        var meta = new byte[32];
        await foreach (var kv in keys.WithCancellation(cancellationToken).ConfigureAwait(false))
        {
            crc.Append(kv.Key.Span);
            crc.Append(kv.Value.Span);
            BinaryPrimitives.WriteInt64LittleEndian(meta, kv.CreateRevision);
            BinaryPrimitives.WriteInt64LittleEndian(meta.AsSpan(8), kv.ModRevision);
            BinaryPrimitives.WriteInt64LittleEndian(meta.AsSpan(16), kv.Version);
            BinaryPrimitives.WriteInt64LittleEndian(meta.AsSpan(24), kv.Lease);
            crc.Append(meta);
        }

        return crc.GetCurrentHashAsUInt32();
    }
}
