using RaftKv.Replication.Api;
using V3 = RaftKv.Protocol.Etcd;

namespace RaftKv.Server.Etcd;

internal sealed partial class EtcdWatchSession
{
    /// <summary>One watcher of a stream: what it watches, its credits for queued responses, the revision
    /// it has fully delivered, and the gate that keeps events from following its "canceled".</summary>
    /// <remarks>A watcher is either <i>catching up</i> (its own task reads the history, <see cref="CatchUpAsync"/>)
    /// or <i>synced</i> (in the stream's group, <see cref="Deliver"/>); <see cref="TryBeginCatchUp"/> /
    /// <see cref="EndCatchUp"/> bracket each catch-up task so that the token source is disposed only once no task
    /// uses it and the watcher was stopped.</remarks>
    private sealed class Watcher
    {
        private readonly SemaphoreSlim _credits;
        private readonly CancellationTokenSource _cts;
        private readonly bool _noPut;
        private readonly bool _noDelete;
        private readonly Lock _gate = new();
        private bool _closed;
        private bool _stopped;
        private int _running;
        private long _reached;
        private int _sentSinceTick;

        public Watcher(long id, byte[] key, byte[]? end, long start, long reached, V3.WatchCreateRequest c, int maxPending, CancellationToken session)
        {
            Id = id;
            Key = key;
            End = end;
            Range = new WatchRange(key, end);
            Start = start;
            _reached = reached;
            PrevKv = c.PrevKv;
            ProgressNotify = c.ProgressNotify;
            Fragment = c.Fragment;
            _noPut = c.Filters.Contains(V3.WatchCreateRequest.Types.FilterType.Noput);
            _noDelete = c.Filters.Contains(V3.WatchCreateRequest.Types.FilterType.Nodelete);
            _credits = new SemaphoreSlim(maxPending, maxPending);
            _cts = CancellationTokenSource.CreateLinkedTokenSource(session);
        }

        public long Id { get; }

        public byte[] Key { get; }

        public byte[]? End { get; }

        public WatchRange Range { get; }

        public long Start { get; }

        public bool PrevKv { get; }

        public bool ProgressNotify { get; }

        public bool Fragment { get; }

        /// <summary>The current (or last) catch-up task; completed while the watcher is synced.</summary>
        public Task Pump { get; set; } = Task.CompletedTask;

        /// <summary>Valid only inside a catch-up task (between <see cref="TryBeginCatchUp"/> and <see cref="EndCatchUp"/>).</summary>
        public CancellationToken Token => _cts.Token;

        /// <summary>Every event of this watcher up to this revision has been queued.</summary>
        public long Reached => Interlocked.Read(ref _reached);

        public bool Wants(MvccEvent e) => e.Type == MvccEventType.Put ? !_noPut : !_noDelete;

        /// <summary>Whether this watcher takes an event of this key and type (range and filters).</summary>
        public bool Takes(MvccEvent e) => Wants(e) && Range.Contains(e.Kv.Key.Span);

        public void Reach(long revision) => Interlocked.Exchange(ref _reached, revision);

        public Task<bool> WaitCreditAsync(TimeSpan timeout) => _credits.WaitAsync(timeout, Token);

        /// <summary>Takes a credit if one is free, without waiting (the group never waits on one watcher).</summary>
        public bool TryTakeCredit() => _credits.Wait(0, CancellationToken.None);

        /// <summary>Called by the writer once a response of this watcher is on the wire.</summary>
        public void Release() => _credits.Release();

        /// <summary>Queues an event response unless the watcher was closed.</summary>
        public bool TryQueue(Func<bool> queue)
        {
            lock (_gate)
            {
                if (_closed || !queue())
                {
                    return false;
                }

                _sentSinceTick = 1;
                return true;
            }
        }

        /// <summary>Marks the watcher closed and queues its last response, atomically with respect to <see cref="TryQueue"/>.
        /// False (and nothing queued) if it was closed already.</summary>
        public bool Close(Action queueLast)
        {
            lock (_gate)
            {
                if (_closed)
                {
                    return false;
                }

                _closed = true;
                queueLast();
                return true;
            }
        }

        public bool Closed
        {
            get
            {
                lock (_gate)
                {
                    return _closed;
                }
            }
        }

        /// <summary>A progress_notify tick: an empty response with the reached revision, unless an event
        /// response went out since the last tick or the queue is full.</summary>
        public bool TakeIdleTick() => Interlocked.Exchange(ref _sentSinceTick, 0) == 0;

        /// <summary>Before a catch-up task starts: false once the watcher was stopped (then start none).</summary>
        public bool TryBeginCatchUp()
        {
            lock (_gate)
            {
                if (_stopped || _closed)
                {
                    return false;
                }

                _running++;
                return true;
            }
        }

        public void EndCatchUp()
        {
            lock (_gate)
            {
                _running--;
                if (_stopped && _running == 0)
                {
                    _cts.Dispose();
                }
            }
        }

        /// <summary>Stops the watcher's catch-up task, if any; no new one starts after this.</summary>
        public void Stop()
        {
            lock (_gate)
            {
                if (_stopped)
                {
                    return;
                }

                _stopped = true;
                _cts.Cancel();
                if (_running == 0)
                {
                    _cts.Dispose();
                }
            }
        }
    }
}
