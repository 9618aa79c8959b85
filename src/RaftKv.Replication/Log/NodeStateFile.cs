using System.Buffers.Binary;
using DotNext.Net.Cluster;
using RaftKv.Storage;
using RaftKv.Storage.IO;

namespace RaftKv.Replication.Log;

/// <summary>
/// The Raft hard state a node MUST NOT forget: its current term and whom it voted for in that term.
/// </summary>
/// <remarks>
/// File <c>{DataDir}/log/state</c>, version 1: u32 magic <c>0x5253544B</c>, i64 term, u8 has-vote,
/// <see cref="ClusterMemberId.Size"/> bytes of the vote, u32 CRC-32C of everything before it.
/// Replaced atomically (write <c>state.tmp</c>, fsync, rename, fsync the directory): a crash leaves
/// the old or the new state, never a mix. Every change is durable before the method returns, so a
/// node never votes twice in one term. Callers serialize updates (DotNext's transition lock).
/// </remarks>
internal sealed class NodeStateFile
{
    private const uint Magic = 0x5253544B;
    private static readonly int Size = 4 + 8 + 1 + ClusterMemberId.Size + 4;
    private readonly IFileSystem _fs;
    private readonly string _path;
    private readonly Lock _lock = new();
    private long _term;
    private ClusterMemberId? _votedFor;

    private NodeStateFile(IFileSystem fs, string path)
    {
        _fs = fs;
        _path = path;
    }

    public long Term => Interlocked.Read(ref _term);

    /// <summary>True if this node may vote for <paramref name="id"/> in the current term.</summary>
    public bool IsVotedFor(in ClusterMemberId id)
    {
        lock (_lock)
        {
            return _votedFor is not { } v || v == id;
        }
    }

    public static NodeStateFile Open(IFileSystem fs, string directory)
    {
        var file = new NodeStateFile(fs, Path.Combine(directory, "state"));
        if (!fs.Exists(file._path))
        {
            return file;
        }

        using var reader = fs.OpenRead(file._path);
        var data = new byte[reader.Length];
        reader.ReadExactly(0, data);
        if (data.Length != Size || BinaryPrimitives.ReadUInt32LittleEndian(data) != Magic
            || BinaryPrimitives.ReadUInt32LittleEndian(data.AsSpan(Size - 4)) != Crc32C.Compute(data.AsSpan(0, Size - 4)))
        {
            throw new StorageCorruptionException(file._path, "bad Raft state file (length, magic or checksum)");
        }

        file._term = BinaryPrimitives.ReadInt64LittleEndian(data.AsSpan(4));
        file._votedFor = data[12] != 0 ? new ClusterMemberId(data.AsSpan(13, ClusterMemberId.Size)) : null;
        return file;
    }

    /// <summary>Sets the term (and forgets the vote if asked); durable on return.</summary>
    public void UpdateTerm(long term, bool resetVote)
    {
        lock (_lock)
        {
            Save(term, resetVote ? null : _votedFor);
        }
    }

    /// <summary>Moves to the next term voting for <paramref name="member"/>; durable on return.</summary>
    public long IncrementTerm(ClusterMemberId member)
    {
        lock (_lock)
        {
            var term = _term + 1;
            Save(term, member);
            return term;
        }
    }

    /// <summary>Records the vote in the current term; durable on return.</summary>
    public void UpdateVotedFor(ClusterMemberId member)
    {
        lock (_lock)
        {
            Save(_term, member);
        }
    }

    // Caller holds _lock.
    private void Save(long term, ClusterMemberId? vote)
    {
        var data = new byte[Size];
        BinaryPrimitives.WriteUInt32LittleEndian(data, Magic);
        BinaryPrimitives.WriteInt64LittleEndian(data.AsSpan(4), term);
        if (vote is { } v)
        {
            data[12] = 1;
            v.Format(data.AsSpan(13, ClusterMemberId.Size));
        }

        BinaryPrimitives.WriteUInt32LittleEndian(data.AsSpan(Size - 4), Crc32C.Compute(data.AsSpan(0, Size - 4)));
        var tmp = _path + ".tmp";
        using (var file = _fs.Create(tmp))
        {
            file.Append(data);
            file.Sync();
        }

        _fs.Rename(tmp, _path);
        _fs.SyncDirectory(Path.GetDirectoryName(_path)!);
        _votedFor = vote;
        Interlocked.Exchange(ref _term, term);
    }
}
