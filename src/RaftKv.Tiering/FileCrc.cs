using RaftKv.Storage;

namespace RaftKv.Tiering;

/// <summary>CRC32C of a whole file (verifies uploads).</summary>
public static class FileCrc
{
    public static async Task<uint> ComputeAsync(string path, CancellationToken cancellationToken)
    {
        var crc = Crc32C.Start;
        var buffer = new byte[1 << 16];
        await using var f = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1, useAsync: true);
        int n;
        while ((n = await f.ReadAsync(buffer, cancellationToken).ConfigureAwait(false)) > 0)
        {
            crc = Crc32C.Append(crc, buffer.AsSpan(0, n));
        }

        return Crc32C.Finish(crc);
    }
}
