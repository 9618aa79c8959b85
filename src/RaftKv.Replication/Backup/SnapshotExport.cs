using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;
using RaftKv.Storage;
using RaftKv.Storage.IO;

namespace RaftKv.Replication.Backup;

/// <summary>
/// A point-in-time backup snapshot being streamed: an LSM checkpoint taken for it (hard links, and a pin
/// on its tables so that a compaction meanwhile deletes no archived table's object it reads) written as a
/// <see cref="SnapshotFileFormat"/> stream. Dispose deletes the checkpoint.
/// </summary>
/// <remarks>Archived tables are read from the object store while streaming when they are included;
/// if the object store fails, the stream fails (nothing partial is ever a valid file: the checksum
/// comes last).</remarks>
public sealed class SnapshotExport : IDisposable
{
    private const int Chunk = 1 << 16;
    private readonly IFileSystem _fs;
    private readonly string _directory;
    private readonly IRemoteTableStore? _remote;
    private readonly List<Part> _parts;
    private readonly IDisposable? _pin; // the checkpoint's tables (and archived objects) kept until disposed

    internal SnapshotExport(IFileSystem fs, string directory, IRemoteTableStore? remote, bool referenceArchived, long term, long sourceNodeId, ulong clusterId, long createdUnixMs, IDisposable? pin = null)
    {
        _pin = pin;
        _fs = fs;
        _directory = directory;
        _remote = remote;
        var (tables, index) = LsmStore.ReadCheckpoint(fs, directory);
        _parts = [new Part(LsmStore.CheckpointManifestName, fs.GetLength(Path.Combine(directory, LsmStore.CheckpointManifestName)), null)];
        foreach (var t in tables)
        {
            if (t.ObjectName is null)
            {
                var name = LsmStore.TableFileName(t.Id);
                _parts.Add(new Part(name, fs.GetLength(Path.Combine(directory, name)), null));
            }
            else if (referenceArchived)
            {
                var name = LsmStore.TailFileName(t.Id);
                _parts.Add(new Part(name, fs.GetLength(Path.Combine(directory, name)), null));
            }
            else
            {
                if (remote is null)
                {
                    throw new InvalidOperationException($"table {t.Id} is archived as '{t.ObjectName}' but no object store is configured");
                }

                _parts.Add(new Part(LsmStore.TableFileName(t.Id), t.Size, t.ObjectName));
            }
        }

        foreach (var name in LsmStore.CheckpointBlobFiles(fs, directory))
        {
            _parts.Add(new Part(name, fs.GetLength(Path.Combine(directory, name)), null)); // value files its local tables point into
        }

        _parts.Sort((a, b) => string.CompareOrdinal(a.Name, b.Name));
        Header = new SnapshotHeader(index, term, createdUnixMs, sourceNodeId, clusterId, referenceArchived, _parts.Count, _parts.Sum(p => p.Length));
        Length = SnapshotFileFormat.LengthOf(_parts.Select(p => (p.Name, p.Length)));
    }

    public SnapshotHeader Header { get; }

    /// <summary>The stream's exact length in bytes.</summary>
    public long Length { get; }

    /// <summary>Writes the whole stream to <paramref name="output"/>; <paramref name="progress"/> gets the bytes written so far.</summary>
    public async Task WriteToAsync(Stream output, Action<long>? progress, CancellationToken cancellationToken)
    {
        using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        long written = 0;
        async ValueTask Put(ReadOnlyMemory<byte> data)
        {
            sha.AppendData(data.Span);
            await output.WriteAsync(data, cancellationToken).ConfigureAwait(false);
            written += data.Length;
            progress?.Invoke(written);
        }

        await Put(Header.Encode()).ConfigureAwait(false);
        var buffer = new byte[Chunk];
        foreach (var part in _parts)
        {
            var name = Encoding.UTF8.GetBytes(part.Name);
            var head = new byte[2 + name.Length + 8];
            BinaryPrimitives.WriteUInt16LittleEndian(head, (ushort)name.Length);
            name.CopyTo(head, 2);
            BinaryPrimitives.WriteInt64LittleEndian(head.AsSpan(2 + name.Length), part.Length);
            await Put(head).ConfigureAwait(false);
            if (part.ObjectName is { } objectName)
            {
                for (long offset = 0; offset < part.Length;)
                {
                    var n = (int)Math.Min(buffer.Length, part.Length - offset);
                    await _remote!.ReadAsync(objectName, offset, buffer.AsMemory(0, n), cancellationToken).ConfigureAwait(false);
                    offset += n;
                    await Put(buffer.AsMemory(0, n)).ConfigureAwait(false);
                }
            }
            else
            {
                using var file = _fs.OpenRead(Path.Combine(_directory, part.Name));
                if (file.Length != part.Length)
                {
                    throw new IOException($"checkpoint file {part.Name} changed length while streaming");
                }

                for (long offset = 0; offset < part.Length;)
                {
                    var n = (int)Math.Min(buffer.Length, part.Length - offset);
                    file.ReadExactly(offset, buffer.AsSpan(0, n));
                    offset += n;
                    await Put(buffer.AsMemory(0, n)).ConfigureAwait(false);
                }
            }
        }

        var end = (int)(Length - SnapshotFileFormat.ChecksumLength - written);
        await Put(new byte[end]).ConfigureAwait(false); // the end marker (u16 0) and the zero padding
        await output.WriteAsync(sha.GetHashAndReset(), cancellationToken).ConfigureAwait(false);
        progress?.Invoke(Length);
    }

    public void Dispose()
    {
        _pin?.Dispose();
        try
        {
            _fs.DeleteDirectory(_directory);
        }
        catch (IOException)
        {
            // A tmp-* checkpoint left behind is deleted at the next start.
        }
    }

    private sealed record Part(string Name, long Length, string? ObjectName);
}
