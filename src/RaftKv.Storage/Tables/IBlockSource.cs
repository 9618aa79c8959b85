namespace RaftKv.Storage.Tables;

/// <summary>Where a table's bytes come from: a local file or an archived object. Thread-safe.</summary>
public interface IBlockSource : IDisposable
{
    /// <summary>Reads exactly <paramref name="length"/> bytes at <paramref name="offset"/> into a new
    /// array that the caller owns (a decoded block may keep it as its payload).</summary>
    ValueTask<byte[]> ReadAsync(long offset, int length, CancellationToken cancellationToken);

    /// <summary>Reads <c>destination.Length</c> bytes at <paramref name="offset"/> synchronously into
    /// a caller-owned buffer; returns false, reading nothing, when the source can only be read
    /// asynchronously (object tier).</summary>
    bool TryReadNow(long offset, Span<byte> destination);

    /// <summary>Whether reads leave the node (object tier).</summary>
    bool IsRemote { get; }

    /// <summary>Pins the source for one read: false once it was disposed (switched out of its table),
    /// in which case the caller reads the table's current source instead. Every successful call is
    /// paired with <see cref="Release"/>. A local file stays open while pinned, and is closed by the
    /// last release after <see cref="IDisposable.Dispose"/>, so a deleted file's space is freed as
    /// soon as no read uses it.</summary>
    bool TryAcquire();

    /// <summary>Ends a read pinned by <see cref="TryAcquire"/>.</summary>
    void Release();
}
