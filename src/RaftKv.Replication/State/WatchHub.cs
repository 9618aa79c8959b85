using System.Threading.Channels;
using RaftKv.Replication.Api;

namespace RaftKv.Replication.State;

/// <summary>
/// Live delivery of applied revisions to watchers. Published to by the apply loop only, in revision
/// order, after the revision's changes are in the store (so a watcher that subscribes, then reads the
/// store's revision L, gets every revision ≤ L from the history and every later one here: no gap).
/// Holds no history of its own: the history is the LSM's (<see cref="MvccLayout"/>).
/// </summary>
/// <remarks>A subscriber that falls <see cref="Capacity"/> revisions behind, or any subscriber when a
/// snapshot replaces the state (<see cref="Resync"/>), has its channel completed: the watch then
/// catches up from the history again where it stopped. Nothing is dropped silently. <c>_lock</c>
/// guards the subscriber list.</remarks>
internal sealed class WatchHub
{
    /// <summary>Revisions a live subscriber may lag before it is sent back to the history.</summary>
    public const int Capacity = 4096;

    private readonly Lock _lock = new();
    private readonly List<Channel<(long Revision, IReadOnlyList<MvccEvent> Events)>> _subscribers = [];

    public void Publish(long revision, IReadOnlyList<MvccEvent> events)
    {
        lock (_lock)
        {
            for (var i = _subscribers.Count - 1; i >= 0; i--)
            {
                var s = _subscribers[i];
                if (!s.Writer.TryWrite((revision, events)))
                {
                    s.Writer.TryComplete(); // overflow: back to the history
                    _subscribers.RemoveAt(i);
                }
            }
        }
    }

    public ChannelReader<(long Revision, IReadOnlyList<MvccEvent> Events)> Subscribe()
    {
        var channel = Channel.CreateBounded<(long, IReadOnlyList<MvccEvent>)>(new BoundedChannelOptions(Capacity) { FullMode = BoundedChannelFullMode.Wait, SingleReader = true });
        lock (_lock)
        {
            _subscribers.Add(channel);
        }

        return channel.Reader;
    }

    public void Unsubscribe(ChannelReader<(long Revision, IReadOnlyList<MvccEvent> Events)> reader)
    {
        lock (_lock)
        {
            _subscribers.RemoveAll(c => c.Reader == reader);
        }
    }

    /// <summary>Sends every live subscriber back to the history (the state was replaced by a snapshot).</summary>
    public void Resync()
    {
        lock (_lock)
        {
            foreach (var s in _subscribers)
            {
                s.Writer.TryComplete();
            }

            _subscribers.Clear();
        }
    }
}
