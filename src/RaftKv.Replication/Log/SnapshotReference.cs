using System.Buffers.Binary;
using DotNext.IO;
using DotNext.Net.Cluster.Consensus.Raft;

namespace RaftKv.Replication.Log;

/// <summary>
/// What a leader sends in DotNext's InstallSnapshot instead of a snapshot too large to cross in one Raft request
/// (<see cref="RaftLog.PullSnapshotsAboveBytes"/>): "hold the committed state at <c>Index</c>", which the follower
/// reaches by pulling the snapshot and the entries after it from the leader's tail stream, with no request timeout
/// (docs/architecture.md, "Snapshots too large for one Raft request").
/// </summary>
/// <remarks>
/// <para><b>Wire format, version 1.</b> The entry is a DotNext snapshot entry (<c>IsSnapshot</c>) whose
/// <see cref="IRaftLogEntry.CommandId"/> is <see cref="Marker"/> (DotNext's TCP transport carries it in the snapshot's
/// metadata; a real snapshot has none) and whose <see cref="IRaftLogEntry.Term"/> is the term of the entry at
/// <c>Index</c>. The payload is 33 bytes: a version byte (1), the index and the term (both int64 little-endian), and
/// the leader's 16-byte pull credential. Index is an entry the leader has applied (so committed), at or above its
/// snapshot; the follower treats the reference as installed once its commit index reaches it. The credential lets the
/// follower's pull through the leader's auth (<c>raftkv-pull-credential</c>, hex): whoever the Raft transport delivers
/// a reference to is trusted with the data, as with a snapshot — a wiped member has no user or token key yet.</para>
/// <para><b>Compatibility.</b> An older member would try to unpack the 17 bytes as a snapshot: a leader sends
/// references only while every voting member lists the feature <c>snapshot-pull</c>.</para>
/// </remarks>
internal sealed class SnapshotReference(long index, long term, byte[] credential) : IRaftLogEntry
{
    /// <summary>The <see cref="IRaftLogEntry.CommandId"/> that marks a reference ("SPUL").</summary>
    public const int Marker = 0x5350554C;

    /// <summary>Version of the payload layout.</summary>
    public const byte Version = 1;

    /// <summary>Payload length.</summary>
    public const int Size = 1 + sizeof(long) + sizeof(long) + CredentialBytes;

    /// <summary>Length of the pull credential.</summary>
    public const int CredentialBytes = 16;

    /// <summary>The committed index the follower must reach.</summary>
    public long Index => index;

    /// <summary>The leader's pull credential (<see cref="CredentialBytes"/> bytes).</summary>
    public byte[] Credential => credential;

    public long Term => term;

    public DateTimeOffset Timestamp => DateTimeOffset.UtcNow;

    public int? CommandId => Marker;

    public bool IsConfiguration => false;

    bool DotNext.IO.Log.ILogEntry.IsSnapshot => true;

    bool IDataTransferObject.IsReusable => true;

    long? IDataTransferObject.Length => Size;

    bool IDataTransferObject.TryGetMemory(out ReadOnlyMemory<byte> memory)
    {
        memory = Encode();
        return true;
    }

    ValueTask IDataTransferObject.WriteToAsync<TWriter>(TWriter writer, CancellationToken token)
        => writer.Invoke(Encode(), token);

    /// <summary>Whether <paramref name="entry"/> (a snapshot DotNext received) is a reference.</summary>
    public static bool IsReference<TEntry>(TEntry entry)
        where TEntry : IRaftLogEntry
        => entry.IsSnapshot && entry.CommandId == Marker;

    /// <summary>Reads a received reference's payload; throws <see cref="InvalidDataException"/> on a layout this release
    /// does not know.</summary>
    public static SnapshotReference Parse(ReadOnlySpan<byte> payload)
    {
        if (payload.Length != Size || payload[0] != Version)
        {
            throw new InvalidDataException($"snapshot reference of {payload.Length} bytes, version {(payload.Length > 0 ? payload[0] : 0)}: this release reads version {Version} ({Size} bytes)");
        }

        return new SnapshotReference(BinaryPrimitives.ReadInt64LittleEndian(payload[1..]), BinaryPrimitives.ReadInt64LittleEndian(payload[9..]), payload[17..].ToArray());
    }

    private byte[] Encode()
    {
        var payload = new byte[Size];
        payload[0] = Version;
        BinaryPrimitives.WriteInt64LittleEndian(payload.AsSpan(1), index);
        BinaryPrimitives.WriteInt64LittleEndian(payload.AsSpan(9), term);
        credential.AsSpan(0, CredentialBytes).CopyTo(payload.AsSpan(17));
        return payload;
    }
}
