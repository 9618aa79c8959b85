using RaftKv.Replication.Api;
using Mvccpb = RaftKv.Protocol.Etcd.Mvccpb;
using V3 = RaftKv.Protocol.Etcd;

namespace RaftKv.Server.Etcd;

internal sealed partial class EtcdWatchSession
{
    /// <summary>etcd's cancel reasons for a refused create (mvcc's ErrWatcherDuplicateID / ErrEmptyWatcherRange).</summary>
    internal const string DuplicateIdReason = "mvcc: duplicate watch ID provided on the WatchStream";
    internal const string EmptyRangeReason = "mvcc: watcher range is empty";

    /// <summary>etcd's cancel reasons for a watch refused by auth (etcd 3.4's <c>isWatchPermitted</c>): the text of
    /// the gRPC status error (<c>rpctypes.ErrGRPC….Error()</c>), not the bare error string — for a user that may not
    /// read the range, a caller without a user, and a bad token (etcd's clients renew their token on that one and
    /// watch again).</summary>
    internal const string PermissionDeniedReason = "rpc error: code = PermissionDenied desc = etcdserver: permission denied";
    internal const string UserEmptyReason = "rpc error: code = InvalidArgument desc = etcdserver: user name is empty";
    internal const string InvalidTokenReason = "rpc error: code = Unauthenticated desc = etcdserver: invalid auth token";

    private long _nextId;

    /// <summary>Decides whether the stream's caller may watch a create request's range (set when auth is on;
    /// null = everything is permitted): null when it may, else the cancel reason (<see cref="AuthCancelReason"/>).
    /// A refusal is answered as etcd does: created and canceled with that reason.</summary>
    public Func<V3.WatchCreateRequest, string?>? Permit { get; init; }

    /// <summary>The cancel reason etcd 3.4 gives a watch create refused with <paramref name="error"/>: anything
    /// but a missing user or a bad token is "permission denied", as in etcd.</summary>
    internal static string AuthCancelReason(AuthError error) => error switch
    {
        AuthError.UserEmpty or AuthError.Unauthenticated => UserEmptyReason,
        AuthError.InvalidToken => InvalidTokenReason,
        _ => PermissionDeniedReason,
    };

    private void Create(V3.WatchCreateRequest c)
    {
        byte[] key = c.Key.IsEmpty ? [0] : c.Key.ToByteArray(); // etcd: an empty key is "\0", the smallest key
        var end = c.RangeEnd.IsEmpty ? null : c.RangeEnd.ToByteArray();
        var current = _node.Revision;
        if (Permit is { } permit && permit(c) is { } refused)
        {
            Refuse(current, refused);
            return;
        }

        if (end is not null && end is not [0] && key.AsSpan().SequenceCompareTo(end) >= 0)
        {
            Refuse(current, EmptyRangeReason);
            return;
        }

        Watcher w;
        long? compactedAt = null;
        lock (_watchers)
        {
            long id;
            if (c.WatchId != 0)
            {
                if (_watchers.ContainsKey(c.WatchId))
                {
                    Refuse(current, DuplicateIdReason);
                    return;
                }

                id = c.WatchId;
            }
            else
            {
                while (_watchers.ContainsKey(_nextId))
                {
                    _nextId++;
                }

                id = _nextId++;
            }

            var start = c.StartRevision;
            if (start < 0)
            {
                (start, compactedAt) = NegativeStart(start, _node.CompactRevision);
            }

            w = new Watcher(id, key, end, start, reached: start > 0 ? start - 1 : current, c, _options.MaxPendingPerWatcher, _cts.Token);
            _watchers.Add(id, w);
            if (w.PrevKv)
            {
                Interlocked.Increment(ref _prevKvWatchers); // the group reads prev_kv from now on
            }

            // Queued before the watcher can queue anything: the client sees "created" before any event of it.
            Control(new V3.WatchResponse { Header = _identity.Header(current), WatchId = id, Created = true });
        }

        if (compactedAt is { } compacted)
        {
            EndByServer(w, null, compacted); // as a start below the compact revision: created, then canceled
            return;
        }

        // From "now" with nothing to read: straight into the group; otherwise (or if the group is ahead) its own
        // catch-up task first.
        if (w.Start != 0 || !TryJoin(w))
        {
            StartCatchUp(w);
        }
    }

    /// <summary>What etcd 3.4 makes of a negative start revision: its mvcc store's compact revision is -1 until the
    /// first compaction, and a watcher whose start is below it is answered created, then canceled with that
    /// compact revision (clients read ErrCompacted from any nonzero one). So with nothing compacted, -1 watches
    /// from now (etcd's catch-up reads nothing below revision 0 and moves it to the synced watchers) and anything
    /// lower is canceled with compact_revision -1; after a compaction every negative start is canceled with the
    /// compact revision. Returns the start to use (0 = from now), or the compact revision to cancel with.</summary>
    internal static (long Start, long? CompactedAt) NegativeStart(long start, long compactRevision)
        => compactRevision > 0 ? (0, compactRevision) : start == -1 ? (0, null) : (0, -1);

    private void Refuse(long revision, string reason)
        => Control(new V3.WatchResponse { Header = _identity.Header(revision), WatchId = NoWatchId, Created = true, Canceled = true, CancelReason = reason });

    /// <summary>A client's cancel request. An unknown id is ignored (etcd sends nothing). A watcher the server
    /// already ended (<see cref="EndByServer"/>) is answered "canceled" again, as etcd answers the cancel of a
    /// compacted watcher; either way its id is free afterwards.</summary>
    private void CancelByClient(long id)
    {
        Watcher? w;
        lock (_watchers)
        {
            _watchers.Remove(id, out w);
        }

        if (w is null)
        {
            return;
        }

        var response = new V3.WatchResponse { Header = _identity.Header(_node.Revision), WatchId = id, Canceled = true };
        if (!End(w, response))
        {
            Control(response);
        }
    }

    /// <summary>The server ends a watcher (compaction overtook it, too slow, failed): "canceled" with
    /// <paramref name="reason"/> / <paramref name="compactRevision"/> is its last response, and its id stays taken on
    /// the stream until the client cancels it (etcd's watchStream keeps a compacted watcher's id until then: a
    /// create reusing it is refused as a duplicate, an automatic id skips it).</summary>
    private void EndByServer(Watcher w, string? reason, long compactRevision = 0)
    {
        // etcd's response to a compacted watcher carries no revision (its header's is 0, omitted in JSON).
        var response = new V3.WatchResponse { Header = _identity.Header(compactRevision != 0 ? 0 : _node.Revision), WatchId = w.Id, Canceled = true, CompactRevision = compactRevision };
        if (reason is not null)
        {
            response.CancelReason = reason;
        }

        End(w, response);
    }

    /// <summary>Closes a watcher with <paramref name="last"/> as its last response: after this no event of it is
    /// queued, it leaves the group and its catch-up task stops. False if it was closed already (nothing queued).</summary>
    private bool End(Watcher w, V3.WatchResponse last)
    {
        if (!w.Close(() => Control(last)))
        {
            return false;
        }

        lock (_group)
        {
            _synced.Remove(w);
        }

        if (w.PrevKv)
        {
            Interlocked.Decrement(ref _prevKvWatchers);
        }

        w.Stop();
        return true;
    }

    /// <summary>A watcher's own task: reads the history from its <see cref="Watcher.Reached"/> + 1 up to the node's
    /// revision, queues it revision by revision (waiting for credit, canceling a watcher left unread too long),
    /// then joins the group (<see cref="TryJoin"/>), or reads on if the group got ahead.</summary>
    private async Task CatchUpAsync(Watcher w)
    {
        var token = w.Token;
        try
        {
            while (true)
            {
                // Room in the queue, and the revisions it lacks are still among the group's recent ones: rejoin
                // without reading the history (a watcher that ran out of credit for a moment).
                if (!await w.WaitCreditAsync(_options.SlowWatcherTimeout).ConfigureAwait(false))
                {
                    EndByServer(w, SlowReason(w));
                    return;
                }

                w.Release();
                if (TryJoin(w))
                {
                    return;
                }

                var from = w.Reached + 1;
                var upTo = _node.Revision;
                if (from <= upTo)
                {
                    foreach (var (revision, batch) in await _node.ReadRevisionsAsync(w.Key, w.End, from, upTo, w.PrevKv, token).ConfigureAwait(false))
                    {
                        if (!await SendAsync(w, revision, batch).ConfigureAwait(false))
                        {
                            return;
                        }
                    }

                    w.Reach(upTo);
                }

                if (TryJoin(w))
                {
                    return;
                }
            }
        }
        catch (RevisionCompactedException e)
        {
            EndByServer(w, null, e.CompactRevision); // etcd 3.4: compact_revision set, no cancel_reason (clients read ErrCompacted from it)
        }
        catch (OperationCanceledException) when (token.IsCancellationRequested)
        {
        }
        catch (Exception e)
        {
            _log.LogWarning("etcd watch {WatchId} on [{Key}] ended: {Error}", w.Id, Convert.ToHexString(w.Key), e.Message);
            EndByServer(w, "raftkv: watch failed (" + Pipeline.GrpcErrors.MapEtcd(e).Status.Detail + "); watch again from revision " + (w.Reached + 1));
        }
        finally
        {
            w.EndCatchUp();
        }
    }

    /// <summary>Queues one revision of the history for a catching-up watcher; false = the watcher ended.</summary>
    private async Task<bool> SendAsync(Watcher w, long revision, IReadOnlyList<MvccEvent> batch)
    {
        var events = batch.Where(w.Wants).Select(EtcdMapping.ToProto).ToList();
        foreach (var (part, more) in Fragments(events, w.Fragment ? _options.MaxFragmentBytes : int.MaxValue))
        {
            if (!await w.WaitCreditAsync(_options.SlowWatcherTimeout).ConfigureAwait(false))
            {
                EndByServer(w, SlowReason(w));
                return false;
            }

            var response = new V3.WatchResponse { Header = _identity.Header(revision), WatchId = w.Id, Fragment = more };
            response.Events.AddRange(part);
            if (!w.TryQueue(() => _queue.Writer.TryWrite((response, w))))
            {
                w.Release();
                return false;
            }
        }

        w.Reach(revision);
        return true;
    }

    private string SlowReason(Watcher w)
        => $"raftkv: watcher {w.Id} is too slow: {_options.MaxPendingPerWatcher} responses were left unread for "
            + $"{_options.SlowWatcherTimeout.TotalSeconds:0} s; watch again from revision {w.Reached + 1}";

    /// <summary>The events of one revision in responses of at most <paramref name="maxBytes"/> (at least one
    /// event each); all but the last are marked fragment.</summary>
    private static IEnumerable<(List<Mvccpb.Event> Part, bool More)> Fragments(List<Mvccpb.Event> events, int maxBytes)
    {
        if (events.Count == 0)
        {
            yield break;
        }

        if (maxBytes == int.MaxValue)
        {
            yield return (events, false); // not a fragment watcher: no sizes to compute
            yield break;
        }

        var part = new List<Mvccpb.Event>();
        long size = 0;
        foreach (var e in events)
        {
            var s = e.CalculateSize() + 8L;
            if (part.Count > 0 && size + s > maxBytes)
            {
                yield return (part, true);
                part = [];
                size = 0;
            }

            part.Add(e);
            size += s;
        }

        yield return (part, false);
    }
}
