using System.Buffers.Binary;
using System.Numerics;

namespace RaftKv.Tiering;

/// <summary>CRC32C of a whole file (verifies uploads).</summary>
public static class FileCrc
{
    public static async Task<uint> ComputeAsync(string path, CancellationToken cancellationToken)
    {
        var crc = 0xFFFFFFFFu;
        var buffer = new byte[1 << 16];
        await using var f = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1, useAsync: true);
        int n;
        while ((n = await f.ReadAsync(buffer, cancellationToken).ConfigureAwait(false)) > 0)
        {
            var span = buffer.AsSpan(0, n);
            while (span.Length >= 8)
            {
                crc = BitOperations.Crc32C(crc, BinaryPrimitives.ReadUInt64LittleEndian(span));
                span = span[8..];
            }

            foreach (var b in span)
            {
                crc = BitOperations.Crc32C(crc, b);
            }
        }

        return ~crc;
    }
}
