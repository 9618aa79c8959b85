using System.Buffers;
using System.IO.Pipelines;

namespace RaftKv.Server.Hosting.ClientPorts;

/// <summary>
/// The input of an HTTP/2 client connection as Kestrel reads it, with URL-style <c>:authority</c> values fixed
/// (<see cref="HeaderBlockAuthority"/>: etcd 3.4 clients dialled with <c>--endpoints http://host:port</c>).
/// </summary>
/// <remarks>
/// It costs the usual connection nothing: it looks at the frames (whole ones only, never consuming) until the first
/// HEADERS frame, which decides. A valid authority (every gRPC client but those) → pass-through for the rest of the
/// connection: each call is forwarded to the transport's reader as is. A URL-style one → from that frame on, a pump
/// copies the transport's frames into a pipe Kestrel reads, rewriting the HEADERS frames that carry such a literal.
/// Not HTTP/2 (no client preface: HTTP/1.1 over TLS) → pass-through at once. Kestrel calls the reader from one
/// reading loop; modes only change inside <see cref="ReadAsync"/>, before the buffer it returns is handed out.
/// </remarks>
public sealed class Http2AuthorityReader(PipeReader inner, Action<string>? onRewrite = null) : PipeReader
{
    private volatile bool _stopping; // Kestrel completed the reader: the pump stops (woken by CancelPendingRead)
    private Mode _mode;
    private long _bufferStart; // absolute offset of the transport buffer handed out last (inspect mode)
    private long _scanned;     // absolute offset up to which the preface and whole frames were looked at
    private ReadOnlySequence<byte> _last;
    private Pipe? _pipe;

    private enum Mode
    {
        Inspect,
        PassThrough,
        Rewrite,
    }

    private enum Verdict
    {
        Wait,
        Clean,
        Rewrite,
    }

    /// <summary>True once the connection has been found to need rewriting.</summary>
    public bool Rewriting => _mode == Mode.Rewrite;

    public override ValueTask<ReadResult> ReadAsync(CancellationToken cancellationToken = default) => _mode switch
    {
        Mode.PassThrough => inner.ReadAsync(cancellationToken),
        Mode.Rewrite => _pipe!.Reader.ReadAsync(cancellationToken),
        _ => InspectAsync(cancellationToken),
    };

    public override bool TryRead(out ReadResult result)
    {
        switch (_mode)
        {
            case Mode.PassThrough:
                return inner.TryRead(out result);
            case Mode.Rewrite:
                return _pipe!.Reader.TryRead(out result);
            default:
                result = default; // while inspecting, reads go through ReadAsync (Kestrel's HTTP/2 loop uses it)
                return false;
        }
    }

    public override void AdvanceTo(SequencePosition consumed) => AdvanceTo(consumed, consumed);

    public override void AdvanceTo(SequencePosition consumed, SequencePosition examined)
    {
        if (_mode == Mode.Rewrite)
        {
            _pipe!.Reader.AdvanceTo(consumed, examined);
            return;
        }

        if (_mode == Mode.Inspect)
        {
            _bufferStart += _last.Slice(_last.Start, consumed).Length;
        }

        inner.AdvanceTo(consumed, examined);
    }

    public override void CancelPendingRead()
    {
        if (_mode == Mode.Rewrite)
        {
            _pipe!.Reader.CancelPendingRead();
        }
        else
        {
            inner.CancelPendingRead();
        }
    }

    public override void Complete(Exception? exception = null)
    {
        if (_mode == Mode.Rewrite)
        {
            _pipe!.Reader.Complete(exception);
            _stopping = true;
            inner.CancelPendingRead(); // the pump wakes, stops and completes the transport's reader
            return;
        }

        inner.Complete(exception);
    }

    private async ValueTask<ReadResult> InspectAsync(CancellationToken cancellationToken)
    {
        var result = await inner.ReadAsync(cancellationToken).ConfigureAwait(false);
        var buffer = result.Buffer;
        switch (Scan(buffer, out var frameAt))
        {
            case Verdict.Clean:
                _mode = Mode.PassThrough;
                break;
            case Verdict.Rewrite:
                return await StartRewritingAsync(result, frameAt, cancellationToken).ConfigureAwait(false);
        }

        _last = buffer;
        return result;
    }

    /// <summary>Looks at what arrived past <see cref="_scanned"/>: the preface, then whole frames up to the first HEADERS.</summary>
    private Verdict Scan(ReadOnlySequence<byte> buffer, out long frameAt)
    {
        frameAt = 0;
        var pos = _scanned - _bufferStart;
        if (pos < 0 || (_scanned == 0 && _bufferStart > 0))
        {
            // The consumer consumed bytes not looked at yet (Kestrel never does: it consumes the preface and whole frames
            // only, and each read's whole frames are scanned before it sees them): nothing left to inspect reliably, so
            // the connection passes through as it is (before, slicing at a negative offset threw).
            return Verdict.Clean;
        }

        if (_scanned == 0)
        {
            var preface = PrefaceSniffer.Judge(buffer);
            if (preface is null)
            {
                return Verdict.Wait;
            }

            if (preface != SniffResult.Http2)
            {
                return Verdict.Clean;
            }

            _scanned = pos = PrefaceSniffer.Preface.Length;
        }

        while (true)
        {
            var rest = buffer.Slice(pos);
            var length = Http2HeadersFrame.FrameLength(rest);
            if (length < 0)
            {
                return Verdict.Wait;
            }

            var frame = rest.Slice(0, length);
            if (Http2HeadersFrame.IsHeaders(frame))
            {
                frameAt = pos;
                return Http2HeadersFrame.Inspect(frame, out _) == HeaderBlockAuthority.Finding.Rewritten ? Verdict.Rewrite : Verdict.Clean;
            }

            pos += length;
            _scanned += length;
        }
    }

    private async ValueTask<ReadResult> StartRewritingAsync(ReadResult result, long frameAt, CancellationToken cancellationToken)
    {
        _pipe = new Pipe(new PipeOptions(useSynchronizationContext: false));
        var buffer = result.Buffer;
        Write(_pipe.Writer, buffer.Slice(0, frameAt)); // already looked at: as they are
        var end = Rewrite(buffer.Slice(frameAt), _pipe.Writer);
        if (result.IsCompleted)
        {
            Write(_pipe.Writer, buffer.Slice(end));
            inner.AdvanceTo(buffer.End);
        }
        else
        {
            inner.AdvanceTo(end, buffer.End);
        }

        _mode = Mode.Rewrite;
        await _pipe.Writer.FlushAsync(cancellationToken).ConfigureAwait(false);
        if (result.IsCompleted)
        {
            await _pipe.Writer.CompleteAsync().ConfigureAwait(false);
            inner.Complete();
        }
        else
        {
            _ = Task.Run(PumpAsync, CancellationToken.None);
        }

        return await _pipe.Reader.ReadAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Copies the transport's frames into the pipe, rewriting as it goes, until either side ends.</summary>
    private async Task PumpAsync()
    {
        var writer = _pipe!.Writer;
        try
        {
            while (true)
            {
                var read = await inner.ReadAsync().ConfigureAwait(false);
                if (_stopping)
                {
                    break;
                }

                var buffer = read.Buffer;
                var end = Rewrite(buffer, writer);
                if (read.IsCompleted)
                {
                    Write(writer, buffer.Slice(end)); // a truncated last frame: Kestrel judges it
                    inner.AdvanceTo(buffer.End);
                    await writer.FlushAsync().ConfigureAwait(false);
                    break;
                }

                inner.AdvanceTo(end, buffer.End);
                var flush = await writer.FlushAsync().ConfigureAwait(false);
                if (flush.IsCompleted)
                {
                    break; // Kestrel stopped reading
                }
            }

            await writer.CompleteAsync().ConfigureAwait(false);
        }
        catch (Exception e) when (e is IOException or InvalidOperationException or ObjectDisposedException)
        {
            await writer.CompleteAsync(e).ConfigureAwait(false);
        }
        finally
        {
            await inner.CompleteAsync().ConfigureAwait(false);
        }
    }

    /// <summary>Writes the whole frames at the start of <paramref name="buffer"/> to <paramref name="writer"/>, HEADERS
    /// frames with URL-style authorities fixed; returns the position after the last whole frame.</summary>
    private SequencePosition Rewrite(ReadOnlySequence<byte> buffer, PipeWriter writer)
    {
        while (true)
        {
            var length = Http2HeadersFrame.FrameLength(buffer);
            if (length < 0)
            {
                return buffer.Start;
            }

            var frame = buffer.Slice(0, length);
            if (Http2HeadersFrame.IsHeaders(frame) && Http2HeadersFrame.Inspect(frame, out var fixedFrame) == HeaderBlockAuthority.Finding.Rewritten)
            {
                writer.Write(fixedFrame);
                onRewrite?.Invoke("a URL-style :authority was rewritten to host:port");
            }
            else
            {
                Write(writer, frame);
            }

            buffer = buffer.Slice(length);
        }
    }

    private static void Write(PipeWriter writer, ReadOnlySequence<byte> bytes)
    {
        foreach (var segment in bytes)
        {
            writer.Write(segment.Span);
        }
    }
}
