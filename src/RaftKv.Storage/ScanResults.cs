namespace RaftKv.Storage;

/// <summary>The result of <see cref="LsmStore.ScanAsync"/>: each enumeration is a
/// <see cref="ScanEnumerator"/> that takes its snapshot when it starts moving.</summary>
internal sealed class ScanResults(LsmStore store, byte[] start, byte[] end, int limit, long nowUnixMs, CancellationToken scanCancellation) : IAsyncEnumerable<KvEntry>
{
    public IAsyncEnumerator<KvEntry> GetAsyncEnumerator(CancellationToken cancellationToken = default)
    {
        // Either token cancels (as [EnumeratorCancellation] would combine them).
        if (cancellationToken.CanBeCanceled && scanCancellation.CanBeCanceled && cancellationToken != scanCancellation)
        {
            var linked = CancellationTokenSource.CreateLinkedTokenSource(scanCancellation, cancellationToken);
            return new ScanEnumerator(store, start, end, limit, nowUnixMs, linked, linked.Token);
        }

        return new ScanEnumerator(store, start, end, limit, nowUnixMs, null, cancellationToken.CanBeCanceled ? cancellationToken : scanCancellation);
    }
}
