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
}
