using System.Runtime.CompilerServices;
using System.Threading.Channels;
using RaftKv.Replication.Api;
using RaftKv.Storage;

namespace RaftKv.Replication.State;

/// <summary>
/// Recent change history (a bounded ring) and live watch subscribers. Published to by the apply
/// loop only, in commit order. <c>_lock</c> guards the ring and the subscriber list.
/// </summary>
internal sealed class WatchHub(int capacity = 10_000)
{
    private readonly Lock _lock = new();
    private readonly Queue<WatchEvent> _history = new();
    private readonly List<Channel<WatchEvent>> _subscribers = [];

    /// <summary>The smallest index still in the history (long.MaxValue when empty).</summary>
    private long _oldest = long.MaxValue;
    private long _lastPublished;

    public void Publish(IReadOnlyList<WatchEvent> events, long index)
    {
        lock (_lock)
        {
            foreach (var e in events)
            {
                _history.Enqueue(e);
                if (_history.Count > capacity)
                {
                    _history.Dequeue();
                }

                foreach (var s in _subscribers)
                {
                    s.Writer.TryWrite(e);
                }
            }

            _oldest = _history.Count > 0 ? _history.Peek().Entry.Version : long.MaxValue;
            _lastPublished = index;
        }
    }

    public async IAsyncEnumerable<WatchEvent> WatchAsync(Func<byte[], bool> matches, long startIndex, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var channel = Channel.CreateBounded<WatchEvent>(new BoundedChannelOptions(100_000) { FullMode = BoundedChannelFullMode.DropOldest });
        List<WatchEvent> backlog;
        lock (_lock)
        {
            if (startIndex > 0 && startIndex < _oldest && _history.Count >= capacity)
            {
                throw new HistoryCompactedException(startIndex, _oldest);
            }

            backlog = startIndex > 0 ? _history.Where(e => e.Entry.Version >= startIndex).ToList() : [];
            _subscribers.Add(channel);
        }

        try
        {
            long last = 0;
            foreach (var e in backlog)
            {
                if (matches(e.Entry.Key.ToArray()))
                {
                    last = e.Entry.Version;
                    yield return e;
                }
            }

            await foreach (var e in channel.Reader.ReadAllAsync(cancellationToken).ConfigureAwait(false))
            {
                if (e.Entry.Version >= last && (startIndex == 0 || e.Entry.Version >= startIndex) && matches(e.Entry.Key.ToArray()) && !backlog.Contains(e))
                {
                    yield return e;
                }
            }
        }
        finally
        {
            lock (_lock)
            {
                _subscribers.Remove(channel);
            }
        }
    }

    public long LastPublished
    {
        get
        {
            lock (_lock)
            {
                return _lastPublished;
            }
        }
    }

    public static WatchEvent Put(byte[] key, byte[] value, long index, long expires) => new(false, new KvEntry(key, value, index, expires, Tier.Memory));

    public static WatchEvent Delete(byte[] key, long index) => new(true, new KvEntry(key, Array.Empty<byte>(), index, 0, Tier.Memory));
}
