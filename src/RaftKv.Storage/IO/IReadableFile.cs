namespace RaftKv.Storage.IO;

/// <summary>An immutable file opened for positional reads; safe for concurrent readers.</summary>
public interface IReadableFile : IDisposable
{
    long Length { get; }

    /// <summary>Reads exactly <c>buffer.Length</c> bytes at <paramref name="offset"/>; throws
    /// <see cref="EndOfStreamException"/> if the file is shorter.</summary>
    void ReadExactly(long offset, Span<byte> buffer);
}
