using Microsoft.Extensions.Logging.Abstractions;
using RaftKv.Replication;
using RaftKv.Replication.Api;
using RaftKv.Server.Etcd.Concurrency;
using RaftKv.Server.Pipeline;
using RaftKv.TestSupport;

namespace RaftKv.Server.Tests;

/// <summary>
/// The cleanup of an abandoned Lock wait (<see cref="ConcurrencyKv.DeleteQuietlyAsync"/>) on a real single node: a
/// delete that fails as writes fail on a loaded cluster is tried again until it is applied (before, one failed try left
/// the key, and every waiter behind it, until its lease ended); a refusal, the bound and the server's shutdown end the
/// tries, and then the key is left to its lease, as etcd leaves it.
/// </summary>
public sealed class LockCleanupRetryTests
{
    private static readonly byte[] Name = "job"u8.ToArray();
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task ACancelledWaitDeletesItsKeyAfterTheCleanupFailedTwice()
    {
        using var dir = new TempDir();
        await using var node = await StartNodeAsync(dir);
        var writer = new FailingDeletesWriter(node);
        using var cancel = new CancellationTokenSource();
        var (_, _, _, key, waiting) = await WaitBehindAHolderAsync(node, writer, cancel.Token);
        writer.FailNextDeletes(new UnavailableException("timed out", outcomeUnknown: true), new ForwardTimeoutException(1, TimeSpan.FromSeconds(7)));
        await cancel.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => waiting); // returns after its cleanup
        Assert.Equal(3, writer.DeleteTries);
        Assert.False(await ExistsAsync(node, key), "the cancelled waiter's key is still there");
    }

    [Fact]
    public async Task ARetriedCleanupLeavesTheKeyALaterLockWithTheSameLeaseCreated()
    {
        using var dir = new TempDir();
        await using var node = await StartNodeAsync(dir);
        var writer = new FailingDeletesWriter(node);
        using var cancel = new CancellationTokenSource();
        var (mutex, first, waiter, key, waiting) = await WaitBehindAHolderAsync(node, writer, cancel.Token);

        // The cleanup's first try reports a timeout, but was applied; meanwhile the holder unlocks and the client, retrying
        // with the same lease, takes the lock with a key created anew. The cleanup's next try must leave that key.
        LockHeld? second = null;
        writer.FailNextDeletes(new UnavailableException("timed out", outcomeUnknown: true));
        writer.BeforeNextFailure = async () =>
        {
            await node.WriteAsync(KvTxn.Single(KvOp.Delete(key)));
            await EtcdMutex.UnlockAsync(first.Key, new FailingDeletesWriter(node), CancellationToken.None);
            second = await mutex.LockAsync(Name, waiter, new FailingDeletesWriter(node), CancellationToken.None);
        };
        await cancel.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => waiting); // returns after its cleanup
        Assert.Equal(2, writer.DeleteTries);
        Assert.NotNull(second);
        Assert.True(await ExistsAsync(node, key), "the cancelled wait's cleanup deleted the key of the call that holds the lock now");
    }

    [Fact]
    public async Task ARefusalTheBoundAndShutdownEndTheTriesAndLeaveTheKeyToItsLease()
    {
        using var dir = new TempDir();
        await using var node = await StartNodeAsync(dir);
        var lease = await GrantAsync(node);
        var key = "job/1"u8.ToArray();
        await node.WriteAsync(KvTxn.Single(new KvOp(KvOpKind.Put, key, [], Lease: lease)));
        var delete = KvTxn.Single(KvOp.Delete(key));

        // A refusal: a retry would get the same answer.
        var refused = new FailingDeletesWriter(node);
        refused.FailNextDeletes(new AuthException(AuthError.PermissionDenied, "permission denied"), new UnavailableException("not reached"));
        Assert.False(await new ConcurrencyKv(node).DeleteQuietlyAsync(refused, delete));
        Assert.Equal(1, refused.DeleteTries);

        // The bound: with none left after the first failure, no second try.
        var bounded = new FailingDeletesWriter(node);
        bounded.FailNextDeletes(new UnavailableException("timed out", outcomeUnknown: true));
        Assert.False(await new ConcurrencyKv(node) { CleanupBound = TimeSpan.Zero }.DeleteQuietlyAsync(bounded, delete));
        Assert.Equal(1, bounded.DeleteTries);

        // Shutdown: the tries end.
        using var stopping = new CancellationTokenSource();
        await stopping.CancelAsync();
        var stopped = new FailingDeletesWriter(node);
        stopped.FailNextDeletes(new UnavailableException("no leader"));
        Assert.False(await new ConcurrencyKv(node) { Stopping = stopping.Token }.DeleteQuietlyAsync(stopped, delete));
        Assert.Equal(1, stopped.DeleteTries);

        Assert.True(await ExistsAsync(node, key), "a given-up cleanup leaves the key to its lease");
        Assert.True(await new ConcurrencyKv(node).DeleteQuietlyAsync(new FailingDeletesWriter(node), delete));
        Assert.False(await ExistsAsync(node, key));
    }

    /// <summary>A holder takes the lock, then a waiter (another lease) queues behind it through <paramref name="writer"/>
    /// and is in its wait: cancelled only once its create has returned — a create the caller cancels before it returns
    /// fails without a cleanup, in etcd too (its key may be an earlier call's, which holds the lock with the same lease).</summary>
    private static async Task<(EtcdMutex Mutex, LockHeld Holder, long Waiter, byte[] Key, Task<LockHeld> Waiting)> WaitBehindAHolderAsync(KvNode node, FailingDeletesWriter writer, CancellationToken cancel)
    {
        var mutex = new EtcdMutex(new ConcurrencyKv(node));
        var holder = await mutex.LockAsync(Name, await GrantAsync(node), writer, CancellationToken.None);
        var waiter = await GrantAsync(node);
        var waiting = mutex.LockAsync(Name, waiter, writer, cancel);
        var key = ConcurrencyKv.KeyOf(ConcurrencyKv.PrefixOf(Name), waiter);
        await Eventually.TrueAsync(() => writer.OtherWritesDone == 2, Deadline, "the waiter's create returned");
        Assert.True(await ExistsAsync(node, key), "the waiter's key is written");
        return (mutex, holder, waiter, key, waiting);
    }

    private static async Task<KvNode> StartNodeAsync(TempDir dir)
    {
        var raft = $"127.0.0.1:{FreePorts.Next()}";
        var node = await KvNode.CreateAsync(
            new KvNodeOptions
            {
                NodeId = 1,
                DataDir = dir.Path,
                RaftListen = raft,
                RaftAdvertise = raft,
                Peers = new Dictionary<long, string> { [1] = raft },
                CorruptCheckInterval = TimeSpan.Zero,
            },
            NullLoggerFactory.Instance);
        await node.StartAsync();
        await Eventually.TrueAsync(() => node.IsLeader, Deadline, "the single node leads");
        return node;
    }

    private static async Task<long> GrantAsync(KvNode node) => (await node.LeaseGrantAsync(0, 600)).Id;

    private static async Task<bool> ExistsAsync(KvNode node, byte[] key)
        => (await node.RangeAsync(new RangeRequest(key), ReadConsistency.Linearizable)).Kvs.Count == 1;
}
