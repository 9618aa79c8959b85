using System.Runtime.CompilerServices;
using RaftKv.Storage.Iteration;

namespace RaftKv.Storage;

/// <summary>
/// One enumeration of a scan: pins a <see cref="ReadView"/> on the first move and merges its
/// memtables and tables, yielding live entries in key order up to <c>end</c> and <c>limit</c>.
/// </summary>
/// <remarks>
/// <para>A move completes synchronously (no async state machine per entry) unless a block must come
/// from object storage; then one awaited move continues from where the synchronous path stopped.</para>
/// <para>Lifetimes: the view is released when the enumeration ends or is disposed. Each entry's key
/// is a copy; its value is immutable engine memory (arena or cached block).</para>
/// <para>Concurrency: one consumer; not thread-safe (the <see cref="IAsyncEnumerator{T}"/> contract).</para>
/// </remarks>
internal sealed class ScanEnumerator(LsmStore store, byte[] start, byte[] end, int limit, long nowUnixMs, CancellationTokenSource? linked, CancellationToken cancellationToken) : IAsyncEnumerator<KvEntry>
{
    private ReadView? _view;
    private MergingCursor? _merged;
    private int _count;
    private bool _done;

    public KvEntry Current { get; private set; }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // per-entry path: skip tier-0 code
    public ValueTask<bool> MoveNextAsync()
    {
        if (_done)
        {
            return new(false);
        }

        if (_merged is null)
        {
            _view = store.AcquireView();
            _merged = LsmStore.OpenScan(_view, start, end);
        }

        if (limit > 0 && _count >= limit)
        {
            return new(Finish());
        }

        var live = LsmStore.NextLive(_merged, end, nowUnixMs);
        return live is null ? MoveAfterIoAsync() : new(live.Value ? Accept() : Finish());
    }

    public ValueTask DisposeAsync()
    {
        Finish();
        linked?.Dispose();
        return ValueTask.CompletedTask;
    }

    /// <summary>The awaited continuation when a block must come from object storage.</summary>
    private async ValueTask<bool> MoveAfterIoAsync()
    {
        var merged = _merged!;
        while (true)
        {
            if (!await merged.MoveNextAsync(cancellationToken).ConfigureAwait(false) || LsmStore.IsPastEnd(merged, end))
            {
                return Finish();
            }

            if (!LsmStore.IsDeadAt(merged, nowUnixMs))
            {
                return Accept();
            }

            var live = LsmStore.NextLive(merged, end, nowUnixMs);
            if (live is not null)
            {
                return live.Value ? Accept() : Finish();
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // per-entry path: skip tier-0 code
    private bool Accept()
    {
        var m = _merged!;

        // The key buffer is reused by the cursor: copy it. The value is immutable engine memory.
        Current = new KvEntry(m.Key.ToArray(), m.Value, m.Version, m.ExpiresAtUnixMs, m.Tier);
        _count++;
        return true;
    }

    private bool Finish()
    {
        _done = true;
        Current = default;
        _view?.Dispose();
        return false;
    }
}
