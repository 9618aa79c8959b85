using System.Threading.Channels;

namespace RaftKv.Replication.Api;

/// <summary>
/// A live subscription to every applied revision of this replica (all keys), from
/// <see cref="IKvNode.SubscribeRevisions"/>: the primitive a grouped watcher (one subscription shared by many
/// watchers) is built on. Every revision greater than <see cref="Revision"/> is written to <see cref="Reader"/>, in
/// revision order, with every event of that revision (in the order it applied them, no prev_kv); the reader may also see
/// revisions ≤ <see cref="Revision"/> (skip them). When the subscriber falls too far behind, or a snapshot
/// replaces the state, the reader is completed: the subscriber must catch up from the history
/// (<see cref="IKvNode.ReadRevisionsAsync"/>) and subscribe again. Nothing is dropped silently.
/// </summary>
public sealed class RevisionFeed : IDisposable
{
    private readonly Action _unsubscribe;
    private int _disposed;

    internal RevisionFeed(ChannelReader<(long Revision, IReadOnlyList<MvccEvent> Events)> reader, long revision, Action unsubscribe)
    {
        Reader = reader;
        Revision = revision;
        _unsubscribe = unsubscribe;
    }

    /// <summary>The replica's revision when the subscription started: every later revision comes through <see cref="Reader"/>.</summary>
    public long Revision { get; }

    /// <summary>Applied revisions, in order; completed when the subscriber must go back to the history.</summary>
    public ChannelReader<(long Revision, IReadOnlyList<MvccEvent> Events)> Reader { get; }

    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 0)
        {
            _unsubscribe();
        }
    }
}
