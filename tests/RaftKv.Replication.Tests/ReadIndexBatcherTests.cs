using RaftKv.Replication.Api;

namespace RaftKv.Replication.Tests;

/// <summary>
/// The single-flight rule of a follower's read-index requests (<see cref="ReadIndexBatcher"/>, etcd's
/// <c>linearizableReadLoop</c>): one request in flight; reads arriving while it is outstanding share the next one and
/// never take the outstanding request's index, which may predate a write acknowledged before they began.
/// </summary>
public sealed class ReadIndexBatcherTests
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(30);

    /// <summary>The requests the batcher sent, each answered by the test.</summary>
    private sealed class Leader
    {
        private readonly List<TaskCompletionSource<LeaderReadIndex>> _requests = [];

        public int Sent
        {
            get
            {
                lock (_requests)
                {
                    return _requests.Count;
                }
            }
        }

        public Task<LeaderReadIndex> Fetch(CancellationToken token)
        {
            var request = new TaskCompletionSource<LeaderReadIndex>(TaskCreationOptions.RunContinuationsAsynchronously);
            lock (_requests)
            {
                _requests.Add(request);
            }

            return request.Task;
        }

        public TaskCompletionSource<LeaderReadIndex> Request(int i)
        {
            lock (_requests)
            {
                return _requests[i];
            }
        }
    }

    [Fact]
    public async Task AReadArrivingWhileARequestIsOutstandingWaitsForTheNextRequest()
    {
        var leader = new Leader();
        var batcher = new ReadIndexBatcher(leader.Fetch, CancellationToken.None);

        var first = batcher.NextAsync(CancellationToken.None);
        Assert.Equal(1, leader.Sent);

        // Arrive after request 0 left: they must not get its answer, and they share one next request.
        var second = batcher.NextAsync(CancellationToken.None);
        var third = batcher.NextAsync(CancellationToken.None);
        Assert.Equal(1, leader.Sent);

        leader.Request(0).SetResult(new LeaderReadIndex(1, 10));
        Assert.Equal(10, (await first).Index);
        await Eventually.TrueAsync(() => leader.Sent == 2, Deadline, "the gathered reads' request is sent once the first one ends");
        Assert.False(second.IsCompleted, "a read that arrived while request 0 was outstanding took its index");
        Assert.False(third.IsCompleted, "a read that arrived while request 0 was outstanding took its index");

        var fourth = batcher.NextAsync(CancellationToken.None); // arrives while request 1 is outstanding
        leader.Request(1).SetResult(new LeaderReadIndex(1, 20));
        Assert.Equal(20, (await second).Index);
        Assert.Equal(20, (await third).Index);
        await Eventually.TrueAsync(() => leader.Sent == 3, Deadline, "the fourth read's request is sent");
        Assert.False(fourth.IsCompleted);

        // A failed request fails its batch only; an idle batcher sends the next read's request at once.
        leader.Request(2).SetException(new UnavailableException("leader gone"));
        await Assert.ThrowsAsync<UnavailableException>(() => fourth);
        await Eventually.TrueAsync(() => batcher.Rounds == 3, Deadline, "the batcher is idle");
        var fifth = batcher.NextAsync(CancellationToken.None);
        Assert.Equal(4, leader.Sent);
        leader.Request(3).SetResult(new LeaderReadIndex(2, 30));
        Assert.Equal(30, (await fifth).Index);
        Assert.Equal(4, batcher.Rounds);
    }

    [Fact]
    public async Task AReadThatGivesUpLeavesTheRequestToTheOthers()
    {
        var leader = new Leader();
        var batcher = new ReadIndexBatcher(leader.Fetch, CancellationToken.None);
        using var cancel = new CancellationTokenSource();
        var first = batcher.NextAsync(CancellationToken.None);
        var gaveUp = batcher.NextAsync(cancel.Token);
        var waiting = batcher.NextAsync(CancellationToken.None);
        await cancel.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => gaveUp);

        leader.Request(0).SetResult(new LeaderReadIndex(1, 5));
        Assert.Equal(5, (await first).Index);
        await Eventually.TrueAsync(() => leader.Sent == 2, Deadline, "the next request is sent");
        leader.Request(1).SetResult(new LeaderReadIndex(1, 6));
        Assert.Equal(6, (await waiting).Index);
    }
}
