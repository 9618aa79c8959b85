using System.Security.Cryptography;
using Grpc.Core;
using RaftKv.Protocol.V1;

namespace RaftKv.Client;

/// <summary>Backup snapshots (docs/api.md, "Snapshots").</summary>
public sealed partial class RaftKvClient
{
    /// <summary>
    /// Saves a backup snapshot of the first endpoint's member to <paramref name="path"/>: streamed to
    /// <c>path.part</c>, checked (length and the trailing SHA-256 over the whole stream), fsynced, then
    /// renamed. No failover: a snapshot is one member's. <paramref name="progress"/> gets (sent, total) bytes.
    /// Throws <see cref="InvalidDataException"/> when the stream fails its checksum (the .part file is removed).
    /// </summary>
    public async Task<SnapshotSaveResult> SaveSnapshotAsync(string path, bool referenceArchived = false, IProgress<(long Sent, long Total)>? progress = null, CancellationToken cancellationToken = default)
    {
        const int ChecksumLength = 32;
        var part = path + ".part";
        using var call = new Admin.AdminClient(Channel(_endpoints[0])).Snapshot(new SnapshotSaveRequest { ReferenceArchived = referenceArchived }, cancellationToken: cancellationToken);
        using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        var tail = new byte[ChecksumLength]; // the last 32 bytes seen: the checksum once the stream ends
        long received = 0, total = 0, index = 0;
        try
        {
            await using (var file = new FileStream(part, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 16, useAsync: true))
            {
                await foreach (var chunk in call.ResponseStream.ReadAllAsync(cancellationToken).ConfigureAwait(false))
                {
                    var data = chunk.Data.Memory;
                    await file.WriteAsync(data, cancellationToken).ConfigureAwait(false);
                    HashAllButTail(sha, tail, received, data.Span);
                    received += data.Length;
                    total = (long)chunk.TotalBytes;
                    index = (long)chunk.RaftIndex;
                    progress?.Report((received, total));
                }

                await file.FlushAsync(cancellationToken).ConfigureAwait(false);
                file.Flush(flushToDisk: true);
            }

            if (received != total || received < ChecksumLength || received % 512 != ChecksumLength)
            {
                throw new InvalidDataException($"snapshot stream ended after {received} of {total} bytes");
            }

            if (!sha.GetHashAndReset().AsSpan().SequenceEqual(tail))
            {
                throw new InvalidDataException("snapshot stream failed its SHA-256 checksum");
            }

            File.Move(part, path, overwrite: true);
            return new SnapshotSaveResult(path, received, index);
        }
        catch
        {
            File.Delete(part);
            throw;
        }
    }

    /// <summary>Hashes every byte except the stream's last 32, which <paramref name="tail"/> keeps.</summary>
    private static void HashAllButTail(IncrementalHash sha, byte[] tail, long before, ReadOnlySpan<byte> data)
    {
        var held = (int)Math.Min(before, tail.Length); // bytes of the previous tail still unhashed
        var all = new byte[held + data.Length];
        tail.AsSpan(tail.Length - held).CopyTo(all);
        data.CopyTo(all.AsSpan(held));
        var keep = Math.Min(all.Length, tail.Length);
        sha.AppendData(all.AsSpan(0, all.Length - keep));
        all.AsSpan(all.Length - keep).CopyTo(tail.AsSpan(tail.Length - keep));
    }
}
