using RaftKv.Replication.Api;
using RaftKv.Replication.Commands;
using RaftKv.Replication.Leases;
using RaftKv.Replication.State;

namespace RaftKv.Replication;

/// <remarks>
/// Leases (docs/architecture.md, "Leases"): grant and revoke go through Raft (<see cref="KvState"/> applies
/// them deterministically); keep-alive, remaining TTL and expiry are the leader's (<see cref="Lessor"/>),
/// which proposes a revoke for each lease it finds expired (<see cref="LeaseLoopAsync"/>).
/// </remarks>
public sealed partial class KvNode
{
    private readonly SemaphoreSlim _promoteLock = new(1, 1);
    private Lessor? _lessor;

    private Lessor LeaseLessor => _lessor ??= new Lessor(_state.Leases, _options.TimeProvider);

    public async Task<LeaseGrantResult> LeaseGrantAsync(long id, long ttlSeconds, CancellationToken cancellationToken = default)
    {
        if (ttlSeconds > LeaseLimits.MaxTtlSeconds)
        {
            throw new LeaseTtlTooLargeException(ttlSeconds);
        }

        if (id < 0)
        {
            throw new ArgumentException($"lease id {id} is negative");
        }

        var ttl = Math.Max(ttlSeconds, _options.MinLeaseTtlSeconds);
        var holder = new ApplyResult();
        var result = await ProposeAsync(new KvCommand(CommandKind.LeaseGrant, NextTimestamp(), null, null, Lease: new LeaseCommand(id, ttl)), cancellationToken, holder).ConfigureAwait(false);
        Interlocked.Exchange(ref _lastWriteTicks, Environment.TickCount64);
        return new LeaseGrantResult(holder.LeaseId, holder.LeaseTtl, result.Index);
    }

    public async Task<TxnResult> LeaseRevokeAsync(long id, CancellationToken cancellationToken = default)
    {
        var result = await ProposeAsync(new KvCommand(CommandKind.LeaseRevoke, NextTimestamp(), null, null, Lease: new LeaseCommand(id)), cancellationToken).ConfigureAwait(false);
        Interlocked.Exchange(ref _lastWriteTicks, Environment.TickCount64);
        LeaseLessor.Forget(id);
        return result;
    }

    public async Task<long> LeaseKeepAliveAsync(long id, CancellationToken cancellationToken = default)
    {
        var lessor = await PrimaryLessorAsync(cancellationToken).ConfigureAwait(false);
        if (!_state.Leases.Contains(id))
        {
            // A grant may have committed before this node applied it: catch up once before answering.
            await BarrierAsync(ReadConsistency.Linearizable, cancellationToken).ConfigureAwait(false);
        }

        return lessor.Renew(id);
    }

    public async Task<LeaseTimeToLiveResult> LeaseTimeToLiveAsync(long id, bool withKeys, CancellationToken cancellationToken = default)
    {
        var lessor = await PrimaryLessorAsync(cancellationToken).ConfigureAwait(false);
        await BarrierAsync(ReadConsistency.Linearizable, cancellationToken).ConfigureAwait(false);
        var record = _state.Leases.Find(id) ?? throw new LeaseNotFoundException(id);
        var remaining = lessor.Remaining(id) ?? throw new LeaseNotFoundException(id);
        return new LeaseTimeToLiveResult(id, remaining, record.TtlSeconds, withKeys ? _state.AttachedKeys(id) : []);
    }

    public async Task<IReadOnlyList<long>> LeaseLeasesAsync(ReadConsistency consistency = ReadConsistency.Linearizable, CancellationToken cancellationToken = default)
    {
        await BarrierAsync(consistency, cancellationToken).ConfigureAwait(false);
        return _state.Leases.All().Select(r => r.Id).ToList();
    }

    public async Task<IReadOnlyList<(long Id, long TtlSeconds)>> LeaseTtlsAsync(ReadConsistency consistency, CancellationToken cancellationToken = default)
    {
        await BarrierAsync(consistency, cancellationToken).ConfigureAwait(false);
        return _state.Leases.All().Select(r => (r.Id, r.TtlSeconds)).ToList();
    }

    /// <summary>The lessor, promoted for the current term: throws <see cref="NotLeaderException"/> on a
    /// follower; on a new leader, first waits until it applied everything committed before its term (so
    /// its lease table is current), then resets every lease's expiry (<see cref="Lessor.Promote"/>).</summary>
    private async ValueTask<Lessor> PrimaryLessorAsync(CancellationToken cancellationToken)
    {
        var lessor = LeaseLessor;
        if (!IsLeader)
        {
            lessor.Demote();
            throw new NotLeaderException(GetStatus().Leader);
        }

        var term = _log.Term;
        if (lessor.PrimaryTerm == term)
        {
            return lessor;
        }

        await _promoteLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (lessor.PrimaryTerm != term)
            {
                await BarrierAsync(ReadConsistency.Linearizable, cancellationToken).ConfigureAwait(false);
                if (!IsLeader || _log.Term != term)
                {
                    throw new NotLeaderException(GetStatus().Leader);
                }

                lessor.Promote(term, _options.ElectionTimeoutUpper);
            }
        }
        finally
        {
            _promoteLock.Release();
        }

        return lessor;
    }

    /// <summary>On the leader: promotes the lessor, then proposes a revoke for each expired lease, at most
    /// <see cref="KvNodeOptions.LeaseRevokesPerSecond"/>. On a follower: keeps the lessor demoted.</summary>
    private async Task LeaseLoopAsync()
    {
        var token = _stop.Token;
        using var timer = new PeriodicTimer(_options.LeaseCheckInterval, _options.TimeProvider);
        var perRound = Math.Max(1, (int)(_options.LeaseRevokesPerSecond * _options.LeaseCheckInterval.TotalSeconds));
        string? lastError = null;
        while (await WaitTickAsync(timer, token).ConfigureAwait(false) && !token.IsCancellationRequested)
        {
            if (!IsLeader)
            {
                LeaseLessor.Demote();
                continue;
            }

            if (_state.Leases.Count == 0 && LeaseLessor.PrimaryTerm == _log.Term)
            {
                continue;
            }

            try
            {
                var lessor = await PrimaryLessorAsync(token).ConfigureAwait(false);
                var expired = lessor.Track(perRound);
                foreach (var chunk in expired.Chunk(64))
                {
                    await Task.WhenAll(chunk.Select(id => RevokeExpiredAsync(id, token))).ConfigureAwait(false);
                }

                lastError = null;
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                if (e.GetType().Name != lastError)
                {
                    lastError = e.GetType().Name;
                    LogBackgroundError(_logger, "lease expiry", e.Message);
                }
            }
        }
    }

    private async Task RevokeExpiredAsync(long id, CancellationToken token)
    {
        try
        {
            await LeaseRevokeAsync(id, token).ConfigureAwait(false);
        }
        catch (LeaseNotFoundException)
        {
            LeaseLessor.Forget(id); // revoked meanwhile (by a client)
        }
        catch (Exception e) when (e is NotLeaderException or UnavailableException)
        {
            // Proposed again after Lessor.RevokeRetry while this node still leads, else by the next leader.
        }
    }
}
