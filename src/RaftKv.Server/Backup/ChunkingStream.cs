namespace RaftKv.Server.Backup;

/// <summary>A write-only stream that hands its bytes on in chunks of <see cref="ChunkSize"/> (the last one
/// shorter, on <see cref="CompleteAsync"/>): how a snapshot stream becomes gRPC messages.</summary>
public sealed class ChunkingStream(Func<ReadOnlyMemory<byte>, long, Task> emit) : Stream
{
    public const int ChunkSize = 64 * 1024;

    private readonly byte[] _buffer = new byte[ChunkSize];
    private int _filled;
    private long _sent;

    public override bool CanRead => false;

    public override bool CanSeek => false;

    public override bool CanWrite => true;

    public override long Length => throw new NotSupportedException();

    public override long Position
    {
        get => _sent + _filled;
        set => throw new NotSupportedException();
    }

    public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
    {
        while (buffer.Length > 0)
        {
            var n = Math.Min(buffer.Length, ChunkSize - _filled);
            buffer.Span[..n].CopyTo(_buffer.AsSpan(_filled));
            _filled += n;
            buffer = buffer[n..];
            if (_filled == ChunkSize)
            {
                await EmitAsync().ConfigureAwait(false);
            }
        }
    }

    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken)
        => WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    /// <summary>Sends what is buffered.</summary>
    public Task CompleteAsync() => _filled > 0 ? EmitAsync() : Task.CompletedTask;

    public override void Flush()
    {
    }

    public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException("write asynchronously");

    private async Task EmitAsync()
    {
        _sent += _filled;
        var chunk = _buffer.AsMemory(0, _filled).ToArray();
        _filled = 0;
        await emit(chunk, _sent).ConfigureAwait(false);
    }
}
