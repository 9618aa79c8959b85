namespace RaftKv.Storage.Tables;

/// <summary>Where a table's bytes come from: a local file or an archived object. Thread-safe.</summary>
public interface IBlockSource : IDisposable
{
    /// <summary>Reads exactly <paramref name="length"/> bytes at <paramref name="offset"/> into a new
    /// array that the caller owns (a decoded block may keep it as its payload).</summary>
    ValueTask<byte[]> ReadAsync(long offset, int length, CancellationToken cancellationToken);

    /// <summary>Whether reads leave the node (object tier).</summary>
    bool IsRemote { get; }
}
