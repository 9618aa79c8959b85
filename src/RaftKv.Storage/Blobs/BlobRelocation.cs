namespace RaftKv.Storage.Blobs;

/// <summary>
/// One compaction's garbage collection of value files: a pointer into a file that <see cref="BlobSet.ShouldRelocate"/>
/// calls mostly garbage is replaced by a pointer to a copy of the value in this compaction's own value file (created on
/// the first such value); every other pointer is kept as is. Used by one compaction (not thread-safe):
/// <see cref="Finish"/> before the manifest edit, <see cref="Release"/> once the job is over either way.
/// </summary>
internal sealed class BlobRelocation(BlobSet blobs)
{
    private readonly byte[] _pointer = new byte[BlobPointer.MaxEncodedLength];
    private BlobWriter? _writer;
    private long? _size;

    /// <summary>The encoded pointer to write for the current entry of <paramref name="cursor"/> (a value-file
    /// reference); valid until the next call.</summary>
    public ReadOnlySpan<byte> Pointer(Iteration.EntryCursor cursor)
    {
        var raw = cursor.RawValue.Span;
        var p = BlobPointer.Decode(raw, "(compaction input)");
        if (!blobs.ShouldRelocate(p.FileId))
        {
            return raw;
        }

        _writer ??= blobs.Create();
        var n = _writer.Append(cursor.ResolveBlob()).Encode(_pointer);
        return _pointer.AsSpan(0, n);
    }

    /// <summary>Makes the relocated values durable (fsync).</summary>
    public void Finish() => _size = _writer?.Finish();

    /// <summary>Bytes of this compaction's value file once <see cref="Finish"/> ran (0 when nothing was relocated).</summary>
    public long BytesWritten => _size ?? 0;

    /// <summary>Drops the compaction's reference on its value file (sealed if <see cref="Finish"/> ran).</summary>
    public void Release()
    {
        if (_writer is { } w)
        {
            _writer = null;
            blobs.ReleaseCreator(w, _size);
        }
    }
}
