using System.Buffers.Binary;

namespace RaftKv.Replication.Backup;

/// <summary>A backup snapshot's header (<see cref="SnapshotFileFormat"/>).</summary>
/// <param name="RaftIndex">The Raft index the snapshot reflects (every entry up to it applied).</param>
/// <param name="RaftTerm">The term of that entry on the source cluster.</param>
/// <param name="CreatedUnixMs">When the source took it (its wall clock).</param>
/// <param name="SourceNodeId">The member that produced it.</param>
/// <param name="ClusterId">The source cluster's id (0 if unknown).</param>
/// <param name="ArchivedReferenced">Archived tables are referenced in the bucket, not included.</param>
/// <param name="FileCount">Number of files.</param>
/// <param name="DataBytes">Sum of the files' lengths.</param>
public sealed record SnapshotHeader(long RaftIndex, long RaftTerm, long CreatedUnixMs, long SourceNodeId, ulong ClusterId, bool ArchivedReferenced, int FileCount, long DataBytes)
{
    public byte[] Encode()
    {
        var b = new byte[SnapshotFileFormat.PreambleLength + SnapshotFileFormat.HeaderFieldsLength];
        SnapshotFileFormat.Magic.CopyTo(b);
        BinaryPrimitives.WriteUInt16LittleEndian(b.AsSpan(8), SnapshotFileFormat.Version);
        BinaryPrimitives.WriteUInt16LittleEndian(b.AsSpan(10), SnapshotFileFormat.HeaderFieldsLength);
        var f = b.AsSpan(SnapshotFileFormat.PreambleLength);
        BinaryPrimitives.WriteInt64LittleEndian(f, RaftIndex);
        BinaryPrimitives.WriteInt64LittleEndian(f[8..], RaftTerm);
        BinaryPrimitives.WriteInt64LittleEndian(f[16..], CreatedUnixMs);
        BinaryPrimitives.WriteInt64LittleEndian(f[24..], SourceNodeId);
        BinaryPrimitives.WriteUInt64LittleEndian(f[32..], ClusterId);
        BinaryPrimitives.WriteUInt32LittleEndian(f[40..], ArchivedReferenced ? 1u : 0u);
        BinaryPrimitives.WriteInt32LittleEndian(f[44..], FileCount);
        BinaryPrimitives.WriteInt64LittleEndian(f[48..], DataBytes);
        return b;
    }

    /// <summary>Decodes the header at the start of <paramref name="stream"/>; returns it and the number of bytes read.</summary>
    public static (SnapshotHeader Header, int Length) Decode(Stream stream)
    {
        var pre = new byte[SnapshotFileFormat.PreambleLength];
        ReadFully(stream, pre);
        if (!pre.AsSpan(0, 8).SequenceEqual(SnapshotFileFormat.Magic))
        {
            throw new SnapshotFileException(SnapshotFileError.NotASnapshot, "the file is not a RaftKv snapshot (bad magic; an etcd bbolt snapshot cannot be restored into RaftKv)");
        }

        var version = BinaryPrimitives.ReadUInt16LittleEndian(pre.AsSpan(8));
        if (version != SnapshotFileFormat.Version)
        {
            throw new SnapshotFileException(SnapshotFileError.UnsupportedVersion, $"the snapshot has format version {version}; this release reads version {SnapshotFileFormat.Version}");
        }

        var length = BinaryPrimitives.ReadUInt16LittleEndian(pre.AsSpan(10));
        if (length < SnapshotFileFormat.HeaderFieldsLength)
        {
            throw new SnapshotFileException(SnapshotFileError.Corrupt, $"the snapshot header is {length} bytes, shorter than version 1's {SnapshotFileFormat.HeaderFieldsLength}");
        }

        var f = new byte[length];
        ReadFully(stream, f);
        var header = new SnapshotHeader(
            BinaryPrimitives.ReadInt64LittleEndian(f),
            BinaryPrimitives.ReadInt64LittleEndian(f.AsSpan(8)),
            BinaryPrimitives.ReadInt64LittleEndian(f.AsSpan(16)),
            BinaryPrimitives.ReadInt64LittleEndian(f.AsSpan(24)),
            BinaryPrimitives.ReadUInt64LittleEndian(f.AsSpan(32)),
            (BinaryPrimitives.ReadUInt32LittleEndian(f.AsSpan(40)) & 1) != 0,
            BinaryPrimitives.ReadInt32LittleEndian(f.AsSpan(44)),
            BinaryPrimitives.ReadInt64LittleEndian(f.AsSpan(48)));
        return (header, pre.Length + length);
    }

    internal static void ReadFully(Stream stream, Span<byte> buffer)
    {
        try
        {
            stream.ReadExactly(buffer);
        }
        catch (EndOfStreamException)
        {
            throw new SnapshotFileException(SnapshotFileError.Truncated, "the snapshot ends early (truncated)");
        }
    }
}
