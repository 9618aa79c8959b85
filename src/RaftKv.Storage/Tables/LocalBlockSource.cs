using RaftKv.Storage.IO;

namespace RaftKv.Storage.Tables;

/// <summary>Blocks read from a local table file.</summary>
public sealed class LocalBlockSource(IReadableFile file) : IBlockSource
{
    public bool IsRemote => false;

    public ValueTask<byte[]> ReadAsync(long offset, int length, CancellationToken cancellationToken)
    {
        var buffer = new byte[length];
        file.ReadExactly(offset, buffer);
        return ValueTask.FromResult(buffer);
    }

    public bool TryReadNow(long offset, Span<byte> destination)
    {
        file.ReadExactly(offset, destination);
        return true;
    }

    public void Dispose() => file.Dispose();
}
