using Microsoft.Extensions.Logging.Abstractions;
using RaftKv.Tiering.Backups;

namespace RaftKv.Tiering.Tests.Backups;

/// <summary>The scheduler against a real S3 server: only the backup node (the leader) takes backups, on the
/// schedule the newest backup in the bucket sets, applying the retention; every node reports the newest.</summary>
[Collection("rgw")]
public sealed class BackupSchedulerTests(RgwFixture rgw)
{
    [Fact]
    public async Task OnlyTheBackupNodeTakesBackupsOnTheScheduleAndKeepsTheRetention()
    {
        await using var bench = await BackupBench.CreateAsync(rgw);
        await bench.FillAsync(100);
        var options = new BackupOptions { Interval = TimeSpan.FromMilliseconds(300), Retention = new BackupRetention(2, TimeSpan.Zero), Layout = bench.Layout };
        var leader = new Source(bench, isLeader: true);
        var follower = new Source(bench, isLeader: false);
        await using var onFollower = new BackupScheduler(follower, bench.S3, bench.S3, options, TimeProvider.System, NullLogger<BackupScheduler>.Instance);
        onFollower.Start();
        await using (var onLeader = new BackupScheduler(leader, bench.S3, bench.S3, options, TimeProvider.System, NullLogger<BackupScheduler>.Instance))
        {
            onLeader.Start();
            await Eventually.TrueAsync(() => onLeader.GetStats().Taken >= 4, TimeSpan.FromSeconds(120), "the leader takes backups on its schedule");
            leader.IsBackupNode = false; // leadership lost: a pass under way abandons its backup, no new one starts
            await Eventually.TrueAsync(() => !onLeader.PassInProgress, TimeSpan.FromSeconds(60), "the last pass ends");
        }

        Assert.Equal(0, follower.Checkpoints);
        Assert.Equal(0, onFollower.GetStats().Taken);
        var listing = await bench.Catalog.ListAsync();
        Assert.Equal(2, listing.Backups.Count); // the retention
        Assert.Empty(await bench.KeysAsync(bench.Layout.PendingPrefix)); // an abandoned backup removes its marker
        await Eventually.TrueAsync(() => onFollower.GetStats().Newest?.Id == listing.Backups[0].Id, TimeSpan.FromSeconds(60), "the follower reads the newest backup");
        Assert.NotNull(onFollower.GetStats().AgeSeconds);
    }

    /// <summary>A scheduled pass that found the bucket empty while a manual backup was being written takes no second
    /// backup once that one lands: "due" is decided again under the pass lock. (A restore takes the newest backup:
    /// S3BackupDrillTests once restored the scheduler's backup instead of the one it had just taken.)</summary>
    [Fact]
    public async Task AScheduledPassQueuedBehindAManualBackupTakesNoSecondOne()
    {
        await using var bench = await BackupBench.CreateAsync(rgw);
        await bench.FillAsync(10);
        var s3 = new ListCountingObjectStore(bench.S3);
        var options = new BackupOptions { Interval = TimeSpan.FromHours(1), Tick = TimeSpan.FromMilliseconds(50), Retention = new BackupRetention(3, TimeSpan.Zero), Layout = bench.Layout };
        var leader = new Source(bench, isLeader: true) { Gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously) };
        await using var scheduler = new BackupScheduler(leader, s3, s3, options, TimeProvider.System, NullLogger<BackupScheduler>.Instance);
        var manual = scheduler.RunOnceAsync(); // holds the pass; its checkpoint waits at the gate
        await Eventually.TrueAsync(() => Volatile.Read(ref leader.Checkpoints) == 1, TimeSpan.FromSeconds(60), "the manual backup starts");
        scheduler.Start();
        await Eventually.TrueAsync(() => s3.Lists >= 1, TimeSpan.FromSeconds(60), "a scheduler tick reads the bucket (no backup yet: due)");
        leader.Gate.SetResult();
        var taken = await manual;
        var lists = s3.Lists;
        await Eventually.TrueAsync(() => s3.Lists >= lists + 3, TimeSpan.FromSeconds(60), "the scheduler ticks again after the manual backup");
        Assert.Equal(1, Volatile.Read(ref leader.Checkpoints));
        Assert.Equal([taken.Id], (await bench.Catalog.ListAsync()).Backups.Select(b => b.Id));
    }

    private sealed class Source(BackupBench bench, bool isLeader) : IBackupCheckpointSource
    {
        public int Checkpoints;

        /// <summary>When set, checkpoints wait for it.</summary>
        public TaskCompletionSource? Gate { get; init; }

        private volatile bool _leader = isLeader;

        public bool IsBackupNode
        {
            get => _leader;
            set => _leader = value;
        }

        public string? ClusterUid => BackupBench.ClusterUid;

        public async Task<BackupSource> TakeCheckpointAsync(CancellationToken cancellationToken)
        {
            Interlocked.Increment(ref Checkpoints);
            if (Gate is { } gate)
            {
                await gate.Task.WaitAsync(cancellationToken);
            }

            var dir = Path.Combine(bench.Root, "cp-" + Guid.NewGuid().ToString("N"));
            var index = await bench.Store.CheckpointAsync(dir, cancellationToken);
            return new BackupSource(dir, index, 1, index, 0, 1, 7, [], DateTimeOffset.UtcNow, () => Directory.Delete(dir, recursive: true)) { ClusterUid = BackupBench.ClusterUid };
        }
    }
}
