namespace RaftKv.Replication.Backup;

/// <summary>
/// The backup snapshot file (what <c>Maintenance.Snapshot</c>, <c>etcdctl snapshot save</c> and
/// <c>kvctl snapshot save</c> write; what <c>raftkv restore</c> reads). Version 1, little-endian:
/// </summary>
/// <remarks>
/// <code>
/// magic      8 bytes  "RAFTKVSS"
/// version    u16      1
/// headerLen  u16      length of the header fields that follow (v1: 64; a reader skips fields it does not know)
/// header     raftIndex:i64 raftTerm:i64 createdUnixMs:i64 sourceNodeId:i64 clusterId:u64
///            flags:u32 (bit 0: archived tables referenced, not included) fileCount:u32 dataBytes:i64 reserved:i64
/// files      fileCount × { nameLength:u16 (≥ 1) name:utf8 (a plain file name) length:u64 data[length] }
/// end        nameLength:u16 = 0
/// padding    zero bytes up to the next multiple of 512 of the stream's length
/// checksum   SHA-256 of every byte before it (32 bytes)
/// </code>
/// <para>The files are an LSM checkpoint (<c>LsmStore.CheckpointAsync</c>): the <c>CHECKPOINT</c> manifest,
/// whole tables <c>NNNNNN.sst</c>, and, for archived tables left in the bucket (flag bit 0), their local
/// tails <c>NNNNNN.sstidx</c> while the manifest names their objects. Everything a restore needs is in
/// the LSM under reserved keys: the MVCC revision and history, leases, alarms, the logical clock.</para>
/// <para>Why padding and SHA-256: etcd 3.4's <c>etcdctl snapshot save</c> accepts a stream only when its
/// length modulo 512 is 32 (its <c>hasChecksum</c>: a trailing SHA-256 after sector-aligned content), so a
/// RaftKv snapshot saved by etcdctl is the same file as one saved by kvctl. The reader checks the length
/// (a truncated file), then the checksum over the whole stream (a corrupt one), before it trusts a byte.</para>
/// </remarks>
public static class SnapshotFileFormat
{
    public const int Version = 1;

    public const int Alignment = 512;

    public const int ChecksumLength = 32;

    /// <summary>Length of the v1 header fields (after magic, version and headerLen).</summary>
    public const int HeaderFieldsLength = 64;

    public const int PreambleLength = 8 + 2 + 2;

    public static ReadOnlySpan<byte> Magic => "RAFTKVSS"u8;

    /// <summary>The stream's total length for the given file names and sizes.</summary>
    public static long LengthOf(IEnumerable<(string Name, long Length)> files)
    {
        long n = PreambleLength + HeaderFieldsLength;
        foreach (var (name, length) in files)
        {
            n += 2 + System.Text.Encoding.UTF8.GetByteCount(name) + 8 + length;
        }

        n += 2;
        n = (n + Alignment - 1) / Alignment * Alignment;
        return n + ChecksumLength;
    }
}
