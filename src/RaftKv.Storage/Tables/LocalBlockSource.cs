using RaftKv.Storage.IO;

namespace RaftKv.Storage.Tables;

/// <summary>Blocks read from a local table file.</summary>
public sealed class LocalBlockSource(IReadableFile file) : IBlockSource
{
    /// <summary>1 for the owner (the table) plus one per pinned read; the file closes at 0.</summary>
    private int _refs = 1;
    private int _disposed;

    public bool IsRemote => false;

    public bool TryAcquire() => RefCount.TryIncrement(ref _refs);

    public void Release()
    {
        if (Interlocked.Decrement(ref _refs) == 0)
        {
            file.Dispose();
        }
    }

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

    /// <summary>Drops the owner's reference (idempotent); the file closes once no read pins it.</summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 0)
        {
            Release();
        }
    }
}
