using System.Globalization;
using System.Text;
using Grpc.Core;
using RaftKv.Replication.Api;

namespace RaftKv.Server.Etcd.Concurrency;

/// <summary>
/// The key-value steps etcd's client-side concurrency package (clientv3/concurrency: session, key.go) is made
/// of, run server side on <see cref="IKvNode"/> for <see cref="EtcdMutex"/> and <see cref="EtcdElection"/>:
/// the session lease, a candidate's key, the first/last-created key of a prefix, and waitDeletes.
/// </summary>
/// <remarks>Writes go through the call's <see cref="IConcurrencyWriter"/> (to the leader, from any member); reads are
/// linearizable and watches come from the revision history, so they run on the member that serves the call and
/// survive a leader change: a read that finds no leader (an election is under way) is tried again every
/// <see cref="ReadRetryPause"/> for up to <see cref="ReadRetryBound"/>, as etcd's client retries a read on UNAVAILABLE.</remarks>
public sealed class ConcurrencyKv(IKvNode node)
{
    /// <summary>The pause between two tries of a read that found no leader.</summary>
    public static readonly TimeSpan ReadRetryPause = TimeSpan.FromMilliseconds(50);

    /// <summary>How long a read that finds no leader is tried again (an election's length; etcd's request timeout).</summary>
    public TimeSpan ReadRetryBound { get; init; } = TimeSpan.FromSeconds(7);

    /// <summary>etcd's default session TTL (concurrency.defaultSessionTTL), for a call with lease 0.</summary>
    public const long DefaultSessionTtlSeconds = 60;

    public IKvNode Node => node;

    /// <summary>The lease a call's session uses (concurrency.NewSession with WithLease): the caller's, or a new
    /// lease of <see cref="DefaultSessionTtlSeconds"/> when it passed 0. As etcd's servers do (the session is
    /// orphaned at once), the lease is not kept alive by the call: its owner keeps it alive.</summary>
    public static async Task<long> SessionLeaseAsync(IConcurrencyWriter writer, long lease, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(writer);
        return lease != 0 ? lease : await writer.LeaseGrantAsync(DefaultSessionTtlSeconds, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>The election or lock prefix: name + "/".</summary>
    public static byte[] PrefixOf(ReadOnlySpan<byte> name) => [.. name, (byte)'/'];

    /// <summary>A candidate's key: prefix + the lease id in lowercase hex (Go's %x of the int64 id).</summary>
    public static byte[] KeyOf(byte[] prefix, long lease)
        => [.. prefix, .. Encoding.ASCII.GetBytes(lease < 0 ? "-" + ((ulong)-lease).ToString("x", CultureInfo.InvariantCulture) : lease.ToString("x", CultureInfo.InvariantCulture))];

    /// <summary>The range end of a prefix (etcd's GetPrefixRangeEnd: "\0" = to the end of the keyspace).</summary>
    public static byte[] PrefixEnd(byte[] prefix) => KeyRanges.PrefixEnd(prefix) is { Length: > 0 } e ? e : [0];

    /// <summary>The oldest key of a prefix (clientv3.WithFirstCreate: sorted by create revision, limit 1).</summary>
    public static RangeRequest FirstCreate(byte[] prefix)
        => new(prefix, PrefixEnd(prefix), Limit: 1, SortOrder: SortOrder.Ascend, SortTarget: SortTarget.Create);

    /// <summary>A compare that holds while <paramref name="key"/> has create revision <paramref name="rev"/> (0 = absent).</summary>
    public static KvCompare CreatedAt(byte[] key, long rev) => new(key, CompareTarget.Create, CompareOp.Equal, Revision: rev);

    /// <summary>The oldest key of a prefix now: the key (null when there is none) and the header revision.</summary>
    public async Task<(KeyValue? Kv, long Revision)> FirstCreatedAsync(byte[] prefix, CancellationToken cancellationToken)
    {
        var r = await ReadAsync(FirstCreate(prefix), cancellationToken).ConfigureAwait(false);
        return (r.Kvs.Count == 0 ? null : r.Kvs[0], r.Revision);
    }

    /// <summary>
    /// concurrency.waitDeletes: until no key of the prefix with create revision ≤ <paramref name="maxCreateRevision"/>
    /// is left, read the newest such key and wait for its delete (a watch from the read's revision). Returns the
    /// header revision of the last (empty) read. Throws what the read or the watch throws (cancellation, a
    /// compacted revision).
    /// </summary>
    public async Task<long> WaitDeletesAsync(byte[] prefix, long maxCreateRevision, CancellationToken cancellationToken)
    {
        var lastCreate = new RangeRequest(prefix, PrefixEnd(prefix), Limit: 1, SortOrder: SortOrder.Descend, SortTarget: SortTarget.Create,
            MaxCreateRevision: maxCreateRevision);
        while (true)
        {
            var r = await ReadAsync(lastCreate, cancellationToken).ConfigureAwait(false);
            if (r.Kvs.Count == 0)
            {
                return r.Revision;
            }

            await WaitDeleteAsync(r.Kvs[0].Key.ToArray(), r.Revision, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>A linearizable read on this member, tried again while no leader confirms it (an election is under
    /// way) for up to <see cref="ReadRetryBound"/>.</summary>
    public async Task<RangeResult> ReadAsync(RangeRequest request, CancellationToken cancellationToken)
    {
        var started = System.Diagnostics.Stopwatch.GetTimestamp(); // monotonic: a wall-clock step neither ends nor extends it
        while (true)
        {
            try
            {
                return await node.RangeAsync(request, ReadConsistency.Linearizable, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception e) when (e is UnavailableException or NotLeaderException && System.Diagnostics.Stopwatch.GetElapsedTime(started) < ReadRetryBound && !cancellationToken.IsCancellationRequested)
            {
                await Task.Delay(ReadRetryPause, cancellationToken).ConfigureAwait(false);
            }
        }
    }

    /// <summary>The first pause before a cleanup delete is tried again; it doubles up to <see cref="CleanupMaxPause"/>.</summary>
    public static readonly TimeSpan CleanupFirstPause = TimeSpan.FromMilliseconds(100);

    /// <summary>The longest pause between two tries of a cleanup delete.</summary>
    public static readonly TimeSpan CleanupMaxPause = TimeSpan.FromSeconds(2);

    /// <summary>How long a cleanup delete (<see cref="DeleteQuietlyAsync"/>) is tried again after failures: by default
    /// etcd's default session TTL, the time by which a session lease (a call with lease 0) has expired and taken the key
    /// anyway.</summary>
    public TimeSpan CleanupBound { get; init; } = TimeSpan.FromSeconds(DefaultSessionTtlSeconds);

    /// <summary>Ends the tries of a cleanup delete: the server's shutdown (the host's ApplicationStopping).</summary>
    public CancellationToken Stopping { get; init; }

    /// <summary>Deletes a key through <paramref name="writer"/> (an idempotent write) for an abandoned wait (etcd's
    /// cleanup on the client's own context, whose error etcd ignores). A try that fails is tried again after a pause
    /// (<see cref="CleanupFirstPause"/>, doubling up to <see cref="CleanupMaxPause"/>) for up to
    /// <see cref="CleanupBound"/>, until <see cref="Stopping"/>: a write that timed out on a loaded leader or met a
    /// leader change would otherwise leave the key, and every later waiter behind it, until its lease ends. A refusal
    /// (<see cref="IsRefusal"/>: a retry would get the same answer) ends the tries at once. Never throws: when every
    /// try failed, the key goes with its lease, as in etcd.</summary>
    /// <returns>Whether the delete was applied (false: it was given up).</returns>
    public async Task<bool> DeleteQuietlyAsync(IConcurrencyWriter writer, KvTxn txn)
    {
        ArgumentNullException.ThrowIfNull(writer);
        var started = System.Diagnostics.Stopwatch.GetTimestamp(); // monotonic: a wall-clock step neither ends nor extends the tries
        var pause = CleanupFirstPause;
        while (true)
        {
            try
            {
                await writer.WriteAsync(txn, idempotent: true, Stopping).ConfigureAwait(false);
                return true;
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                if (IsRefusal(e) || Stopping.IsCancellationRequested || System.Diagnostics.Stopwatch.GetElapsedTime(started) + pause > CleanupBound)
                {
                    return false; // etcd ignores the cleanup's error too; the key goes with its lease at the latest
                }
            }

            try
            {
                await Task.Delay(pause, Stopping).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return false;
            }

            pause = TimeSpan.FromTicks(Math.Min(pause.Ticks * 2, CleanupMaxPause.Ticks));
        }
    }

    /// <summary>A write's failure that is the answer, not a passing state of the cluster: the caller may not write the
    /// key (permission, credentials) or the request is bad. Anything else (a timeout, no leader, a leader change, an
    /// unreachable leader, a cancelled attempt) may pass, and an idempotent write may be sent again.</summary>
    public static bool IsRefusal(Exception e) => e switch
    {
        RpcException r => r.StatusCode is StatusCode.PermissionDenied or StatusCode.Unauthenticated or StatusCode.InvalidArgument,
        _ => Pipeline.ErrorKinds.Of(e) is Pipeline.ErrorKind.PermissionDenied or Pipeline.ErrorKind.Unauthenticated or Pipeline.ErrorKind.InvalidArgument
            or Pipeline.ErrorKind.TooLarge or Pipeline.ErrorKind.AuthRefused,
    };

    /// <summary>concurrency.waitDelete: the first DELETE of <paramref name="key"/> at revision ≥ <paramref name="fromRevision"/>.</summary>
    private async Task WaitDeleteAsync(byte[] key, long fromRevision, CancellationToken cancellationToken)
    {
        await foreach (var events in node.WatchRevisionsAsync(key, null, fromRevision, prevKv: false, cancellationToken).ConfigureAwait(false))
        {
            if (events.Any(e => e.Type == MvccEventType.Delete))
            {
                return;
            }
        }

        cancellationToken.ThrowIfCancellationRequested();
        throw new UnavailableException("lost watcher waiting for delete");
    }
}
