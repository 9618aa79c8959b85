using RaftKv.Storage.IO;

namespace RaftKv.Storage.Tables;

/// <summary>
/// The keys file of an archived table (<c>NNNNNN.sstkeys</c>, FORMAT.md "Keys files"): a local
/// SSTable with the archived table's entries one for one — same keys, versions, expiries and
/// tombstones — whose values are replaced by a short record: the value itself when it has at most
/// <see cref="InlineValueMaxBytes"/> bytes, else only its length. So metadata lookups and key scans
/// of archived data never need the object store, and small values (the state machine's own records:
/// clock, request ids) stay readable too.
/// </summary>
/// <remarks>Same block format, CRC32C trailers and footer as a data table (format version
/// <see cref="TableWriter.FormatVersion"/>); the footer's magic <see cref="Magic"/> ("RKVKEY01")
/// tells the two roles apart. Value record: <c>0x00 value</c> (inline) or <c>0x01 length:varint</c>
/// (only in the object).</remarks>
public static class KeysFile
{
    /// <summary>"RKVKEY01": the footer magic of a keys file.</summary>
    public const ulong Magic = 0x3130594B45564B52;

    /// <summary>Values up to this length are kept in the keys file (part of the format: every node
    /// of every release keeps at least these values locally). 48 since the MVCC release (the state
    /// machine's per-key metadata records are at most 37 bytes); keys files written before kept up to
    /// 16 bytes, which covered every record they could contain (clock, request ids). The value record
    /// says which form it is, so readers accept both.</summary>
    public const int InlineValueMaxBytes = 48;

    private const byte Inline = 0;
    private const byte Elided = 1;

    /// <summary>Block-cache id of table <paramref name="tableId"/>'s keys file (disjoint from table ids).</summary>
    public static long CacheId(long tableId) => tableId | (1L << 62);

    /// <summary>
    /// Writes the keys file of <paramref name="table"/> to <paramref name="path"/>: into a temp file,
    /// fsynced, renamed into place, directory fsynced. Reads every data block once through the
    /// table's source (the local file when archiving; the object store for a table archived before
    /// keys files existed), without filling the block cache.
    /// </summary>
    public static async Task WriteAsync(IFileSystem fs, string path, TableReader table, int blockSize, BlockCompression compression, CancellationToken cancellationToken)
    {
        var tmp = path + ".tmp";
        var key = new byte[64];
        var record = new byte[1 + Math.Max(InlineValueMaxBytes, 10)];
        var readAhead = new Blobs.BlobReadAhead(); // the table's small separated values, in key order
        using (var writer = new TableWriter(fs, tmp, blockSize, compression, Magic))
        {
            for (var i = 0; i < table.BlockCount; i++)
            {
                var block = await table.ReadBlockUncachedAsync(i, cancellationToken).ConfigureAwait(false);
                var pos = 0;
                var keyLength = 0;
                while (pos < block.EntriesEnd)
                {
                    block.ReadEntry(ref pos, ref key, ref keyLength, out var valueOffset, out var valueLength, out var version, out var expires, out var tombstone, out var blobRef);
                    var value = block.Payload.AsSpan(valueOffset, valueLength);
                    var separated = blobRef ? Blobs.BlobPointer.Decode(value, path).Length : -1;
                    int n;
                    if (separated > InlineValueMaxBytes)
                    {
                        record[0] = Elided; // the value's length, from its pointer: no read of the value file
                        n = 1 + Varint.Write(record.AsSpan(1), (ulong)separated);
                    }
                    else
                    {
                        n = EncodeValue(blobRef ? table.ResolveBlob(value, readAhead) : value, record);
                    }

                    writer.Add(key.AsSpan(0, keyLength), record.AsSpan(0, n), version, expires, tombstone);
                }
            }

            writer.Finish(table.Meta.CreatedUnixMs);
        }

        fs.Rename(tmp, path);
        fs.SyncDirectory(Path.GetDirectoryName(path)!);
    }

    /// <summary>Encodes a value record into <paramref name="destination"/> (≥ 1 + <see cref="InlineValueMaxBytes"/> bytes); returns its length.</summary>
    internal static int EncodeValue(ReadOnlySpan<byte> value, Span<byte> destination)
    {
        if (value.Length <= InlineValueMaxBytes)
        {
            destination[0] = Inline;
            value.CopyTo(destination[1..]);
            return 1 + value.Length;
        }

        destination[0] = Elided;
        return 1 + Varint.Write(destination[1..], (ulong)value.Length);
    }

    /// <summary>Decodes a value record: the inline value, or null when the value is only in the object.</summary>
    internal static ReadOnlyMemory<byte>? DecodeValue(ReadOnlyMemory<byte> record, string path, out int valueLength)
    {
        var span = record.Span;
        if (span.Length >= 1 && span[0] == Inline)
        {
            valueLength = span.Length - 1;
            return record[1..];
        }

        if (span.Length >= 2 && span[0] == Elided)
        {
            var pos = 1;
            valueLength = (int)Varint.Read(span, ref pos);
            return null;
        }

        throw new StorageCorruptionException(path, "malformed value record in a keys file");
    }
}
