using RaftKv.Storage.IO;

namespace RaftKv.Replication.State;

/// <summary>A write-only, append-only <see cref="Stream"/> over an <see cref="IWritableFile"/> (for DotNext's stream writers).</summary>
/// <remarks><see cref="Flush"/> does not sync; call <see cref="IWritableFile.Sync"/> on the file for durability.</remarks>
internal sealed class WritableFileStream(IWritableFile file) : Stream
{
    public override bool CanRead => false;

    public override bool CanSeek => false;

    public override bool CanWrite => true;

    public override long Length => file.Length;

    public override long Position
    {
        get => file.Length;
        set => throw new NotSupportedException();
    }

    public override void Write(byte[] buffer, int offset, int count) => file.Append(buffer.AsSpan(offset, count));

    public override void Write(ReadOnlySpan<byte> buffer) => file.Append(buffer);

    public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        file.Append(buffer.Span);
        return ValueTask.CompletedTask;
    }

    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken)
        => WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override void Flush()
    {
    }

    public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();
}
