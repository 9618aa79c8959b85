using RaftKv.Replication.Api;
using Mvccpb = RaftKv.Protocol.Etcd.Mvccpb;
using V3 = RaftKv.Protocol.Etcd;

namespace RaftKv.Server.Etcd;

/// <summary>
/// The stream's synced group (etcd's watchableStore "synced" watcherGroup): one <see cref="RevisionFeed"/> per
/// stream, and one task that matches each batch of applied revisions once against every synced watcher and
/// queues their responses in one go. A watcher that starts in the past, or falls behind, catches up from the
/// history in its own task (<see cref="CatchUpAsync"/>) and joins the group at the hand-off revision.
/// </summary>
/// <remarks>
/// <para><b>No gap, no duplicate.</b> <c>_groupRevision</c> (under <c>_group</c>) is the last revision the group has
/// processed: every synced watcher has been given every event of it and of earlier revisions it had not reached.
/// A watcher joins only if it has reached <c>_groupRevision</c>, or if the revisions it lacks up to it are in
/// <c>_recent</c> (the last <see cref="RecentCapacity"/> processed revisions, contiguous) and are queued for it
/// under the same lock; the group gives a watcher only revisions above its <see cref="Watcher.Reached"/>, and only
/// from <see cref="Watcher.Reached"/> + 1 on: a watcher never moves over a revision it was not given (if the feed ever
/// skipped one, the watcher reads it from the history; the stream logs a warning). When the
/// feed ends (the stream lagged <see cref="Replication.Api.RevisionFeed"/>'s bound, or a snapshot replaced the
/// state) the group subscribes again and sends every synced watcher that lacks a revision below the new
/// subscription's start back to the history.</para>
/// <para><b>Slow watchers.</b> The group never waits: a watcher with no free credit (its responses are not being
/// written) leaves the group; its own task waits for credit (and cancels it after
/// <see cref="EtcdWatchOptions.SlowWatcherTimeout"/>), then rejoins from <c>_recent</c> if the revisions it lacks
/// are still there, else reads them from the history first. The other watchers are not held up.</para>
/// <para><b>Batching.</b> Revisions already waiting in the feed are taken together (at most
/// <see cref="MaxBatchRevisions"/> / about <see cref="MaxBatchBytes"/>): a watcher gets one response for its events
/// of the whole batch (header revision = the batch's last), as etcd sends catching-up watchers. Each event is
/// converted to its protobuf form once per batch (with and without prev_kv) and shared by every response.</para>
/// </remarks>
internal sealed partial class EtcdWatchSession
{
    /// <summary>Revisions taken from the feed into one group pass, at most.</summary>
    private const int MaxBatchRevisions = 256;

    /// <summary>Key and value bytes of one group pass, about (a revision is never split).</summary>
    private const int MaxBatchBytes = 256 * 1024;

    /// <summary>Processed revisions kept for the hand-off of a watcher that catches up from the history.</summary>
    private const int RecentCapacity = 4096;

    private readonly Lock _group = new();
    private readonly List<Watcher> _synced = [];
    private readonly Queue<GroupRevision> _recent = new();
    private long _groupRevision;
    private int _prevKvWatchers;
    private Task? _groupTask;

    private enum Outcome
    {
        Delivered,
        NoCredit,
        Closed,
        NeedsHistory,
    }

    private async Task GroupLoopAsync(RevisionFeed first, CancellationToken token)
    {
        await Task.Yield();
        var batch = new List<GroupRevision>();
        var feed = first;
        try
        {
            while (true)
            {
                try
                {
                    await PassAsync(feed.Reader, batch, token).ConfigureAwait(false);
                }
                catch (Exception e) when (!token.IsCancellationRequested)
                {
                    // A prev_kv read failed: the revisions taken are below the next subscription's start, so every
                    // synced watcher that lacks them goes back to the history (Resubscribed).
                    _log.LogWarning("etcd watch stream: group pass failed, watchers catch up from the history: {Error}", e.Message);
                    await Task.Delay(100, token).ConfigureAwait(false);
                }

                // The feed ended (this stream lagged, or a snapshot replaced the state): subscribe again.
                feed.Dispose();
                feed = _node.SubscribeRevisions();
                Resubscribed(feed.Revision);
            }
        }
        catch (OperationCanceledException) when (token.IsCancellationRequested)
        {
        }
        finally
        {
            feed.Dispose();
        }
    }

    /// <summary>Group passes until the feed ends: each takes the revisions waiting (a batch) and delivers them.</summary>
    private async Task PassAsync(System.Threading.Channels.ChannelReader<(long Revision, IReadOnlyList<MvccEvent> Events)> reader, List<GroupRevision> batch, CancellationToken token)
    {
        while (await reader.WaitToReadAsync(token).ConfigureAwait(false))
        {
            batch.Clear();
            var bytes = 0L;
            while (batch.Count < MaxBatchRevisions && bytes < MaxBatchBytes && reader.TryRead(out var item))
            {
                if (item.Revision <= _groupRevision)
                {
                    continue; // before this subscription's start
                }

                var expected = (batch.Count > 0 ? batch[^1].Revision : _groupRevision) + 1;
                if (item.Revision != expected)
                {
                    // Never expected (every changed revision is published, in order): DeliverTo sends each synced
                    // watcher to the history for the revisions it was not given, so no event is lost either way.
                    _log.LogWarning("etcd watch stream: the revision feed went from {Expected} to {Revision}; watchers read the gap from the history", expected - 1, item.Revision);
                }

                var withPrev = Volatile.Read(ref _prevKvWatchers) > 0 ? await WithPrevAsync(item.Revision, item.Events, token).ConfigureAwait(false) : null;
                batch.Add(new GroupRevision(item.Revision, item.Events, withPrev));
                foreach (var e in item.Events)
                {
                    bytes += e.Kv.Key.Length + e.Kv.Value.Length;
                }
            }

            if (batch.Count > 0)
            {
                Deliver(batch);
            }
        }
    }

    /// <summary>prev_kv for the events of one revision (one history read per event, shared by every watcher).</summary>
    private async Task<IReadOnlyList<MvccEvent>> WithPrevAsync(long revision, IReadOnlyList<MvccEvent> events, CancellationToken token)
    {
        var result = new MvccEvent[events.Count];
        for (var i = 0; i < events.Count; i++)
        {
            var prev = await _node.ReadKeyAtAsync(events[i].Kv.Key.ToArray(), revision - 1, token).ConfigureAwait(false);
            result[i] = events[i] with { PrevKv = prev };
        }

        return result;
    }

    private void Resubscribed(long start)
    {
        lock (_group)
        {
            for (var i = _synced.Count - 1; i >= 0; i--)
            {
                var w = _synced[i];
                if (w.Reached < start)
                {
                    _synced.RemoveAt(i); // revisions up to `start` never come through the new feed
                    StartCatchUp(w);
                }
            }

            _recent.Clear();
            _groupRevision = start;
        }
    }

    private void Deliver(List<GroupRevision> batch)
    {
        lock (_group)
        {
            var header = _identity.Header(batch[^1].Revision);
            for (var i = _synced.Count - 1; i >= 0; i--)
            {
                var w = _synced[i];
                var outcome = DeliverTo(w, batch, header);
                if (outcome != Outcome.Delivered)
                {
                    _synced.RemoveAt(i);
                    if (outcome != Outcome.Closed)
                    {
                        StartCatchUp(w); // falls back to the history; the others go on
                    }
                }
            }

            foreach (var r in batch)
            {
                _recent.Enqueue(r);
            }

            while (_recent.Count > RecentCapacity)
            {
                _recent.Dequeue();
            }

            _groupRevision = batch[^1].Revision;
        }
    }

    /// <summary>Called by a watcher's catch-up task once it has reached <paramref name="w"/>.Reached: joins the group
    /// if nothing lies between (or the gap is in <c>_recent</c> and could be queued). True = the task is done.</summary>
    private bool TryJoin(Watcher w)
    {
        lock (_group)
        {
            if (w.Closed)
            {
                return true;
            }

            if (w.Reached + 1 < _node.CompactRevision)
            {
                // Its next revision is compacted: not from the recent events the group still holds, but the catch-up's
                // history read, which ends it as etcd does (created, then canceled with the compact revision).
                return false;
            }

            if (_groupRevision > w.Reached)
            {
                if (_recent.Count == 0 || _recent.Peek().Revision > w.Reached + 1
                    || DeliverTo(w, _recent, _identity.Header(_groupRevision)) != Outcome.Delivered)
                {
                    return false; // the history first
                }
            }

            _synced.Add(w);
            return true;
        }
    }

    private void StartCatchUp(Watcher w)
    {
        if (w.TryBeginCatchUp())
        {
            w.Pump = Task.Run(() => CatchUpAsync(w));
        }
    }

    /// <summary>Queues, for one watcher, its events of the revisions above its <see cref="Watcher.Reached"/> (under
    /// <c>_group</c>), taking every credit it needs first or none.</summary>
    private Outcome DeliverTo(Watcher w, IEnumerable<GroupRevision> revisions, V3.ResponseHeader header)
    {
        var last = w.Reached;
        List<Mvccpb.Event>? events = null;
        foreach (var r in revisions)
        {
            if (r.Revision <= last)
            {
                continue;
            }

            // A watcher moves only over revisions it was given, one by one: a revision missing between what it has
            // reached and these (never expected, see PassAsync) is read from the history, never skipped.
            if (r.Revision != last + 1 || (w.PrevKv && r.WithPrev is null))
            {
                return Outcome.NeedsHistory;
            }

            last = r.Revision;
            for (var i = 0; i < r.Events.Count; i++)
            {
                if (w.Takes(r.Events[i]))
                {
                    (events ??= []).Add(r.Proto(i, w.PrevKv));
                }
            }
        }

        if (events is null)
        {
            w.Reach(last);
            return Outcome.Delivered;
        }

        var parts = Fragments(events, w.Fragment ? _options.MaxFragmentBytes : int.MaxValue).ToList();
        for (var taken = 0; taken < parts.Count; taken++)
        {
            if (!w.TryTakeCredit())
            {
                for (var j = 0; j < taken; j++)
                {
                    w.Release();
                }

                return Outcome.NoCredit;
            }
        }

        for (var p = 0; p < parts.Count; p++)
        {
            var response = new V3.WatchResponse { Header = header, WatchId = w.Id, Fragment = parts[p].More };
            response.Events.AddRange(parts[p].Part);
            if (!w.TryQueue(() => _queue.Writer.TryWrite((response, w))))
            {
                for (var j = p; j < parts.Count; j++)
                {
                    w.Release();
                }

                return Outcome.Closed;
            }
        }

        w.Reach(last);
        return Outcome.Delivered;
    }

    /// <summary>One applied revision as the group holds it: its events, with prev_kv when it was read, and their
    /// protobuf forms converted once (touched under <c>_group</c> only).</summary>
    private sealed class GroupRevision(long revision, IReadOnlyList<MvccEvent> events, IReadOnlyList<MvccEvent>? withPrev)
    {
        private Mvccpb.Event?[]? _plain;
        private Mvccpb.Event?[]? _prev;

        public long Revision { get; } = revision;

        public IReadOnlyList<MvccEvent> Events { get; } = events;

        public IReadOnlyList<MvccEvent>? WithPrev { get; } = withPrev;

        public Mvccpb.Event Proto(int i, bool prevKv)
        {
            if (prevKv)
            {
                _prev ??= new Mvccpb.Event?[Events.Count];
                return _prev[i] ??= EtcdMapping.ToProto(WithPrev![i]);
            }

            _plain ??= new Mvccpb.Event?[Events.Count];
            return _plain[i] ??= EtcdMapping.ToProto(Events[i]);
        }
    }
}
