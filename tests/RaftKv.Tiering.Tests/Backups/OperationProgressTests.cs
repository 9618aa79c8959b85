using System.Collections.Concurrent;
using Microsoft.Extensions.Logging.Abstractions;
using RaftKv.Tiering.Backups;

namespace RaftKv.Tiering.Tests.Backups;

/// <summary>Progress of the long tiering operations against a real S3 server (Ceph RGW), as the server's
/// <c>/admin/{backup,migrate}/progress</c> and the dashboard's progress bars show it: a backup counts the files
/// it stores (tables the bucket lacks + the checkpoint) up to its total, reusing what an earlier backup stored;
/// an archiver pass counts the tables it archives; both end not running, with the result or the error.</summary>
[Collection("rgw")]
public sealed class OperationProgressTests(RgwFixture rgw)
{
    [Fact]
    public async Task A_backup_reports_each_file_stored_up_to_its_total()
    {
        await using var bench = await BackupBench.CreateAsync(rgw);
        for (var t = 0; t < 3; t++)
        {
            await bench.FillAsync(200); // three tables
        }

        var first = new ConcurrentQueue<BackupProgress>();
        var m1 = await BackupAsync(bench, new ProgressSink<BackupProgress>(first.Enqueue));
        var reports = first.ToList();
        Assert.Equal(5, reports.Count); // listed, three tables, the checkpoint
        Assert.All(reports, p => Assert.Equal((4, 0, m1.Id), (p.FilesTotal, p.TablesReused, p.BackupId)));
        Assert.Equal([0, 1, 2, 3, 4], reports.Select(p => p.FilesDone));
        Assert.True(reports.Zip(reports.Skip(1)).All(x => x.First.BytesDone < x.Second.BytesDone), "bytes advance with every file");
        Assert.Equal(m1.UploadedBytes, reports[^1].BytesDone);
        Assert.Equal(reports[^1].BytesTotal, reports[^1].BytesDone);

        await bench.FillAsync(200); // one new table: the next backup stores it and the checkpoint only
        var second = new ConcurrentQueue<BackupProgress>();
        var m2 = await BackupAsync(bench, new ProgressSink<BackupProgress>(second.Enqueue));
        Assert.Equal([0, 1, 2], second.Select(p => p.FilesDone));
        Assert.All(second, p => Assert.Equal((2, 3), (p.FilesTotal, p.TablesReused)));
        Assert.Equal(m2.UploadedBytes, second.Last().BytesDone);
    }

    [Fact]
    public async Task The_scheduler_shows_the_last_backup_done_or_failed()
    {
        await using var bench = await BackupBench.CreateAsync(rgw);
        await bench.FillAsync(200);
        var source = new Source(bench);
        var options = new BackupOptions { Interval = TimeSpan.FromHours(1), Layout = bench.Layout };
        await using var scheduler = new BackupScheduler(source, bench.S3, bench.S3, options, TimeProvider.System, NullLogger<BackupScheduler>.Instance);
        Assert.Null(scheduler.Progress);

        var manifest = await scheduler.RunOnceAsync();
        var done = scheduler.Progress!;
        Assert.False(done.Running);
        Assert.Null(done.Error);
        Assert.Equal(manifest.Id, done.BackupId);
        Assert.Equal((2, 2), (done.FilesDone, done.FilesTotal)); // the table and the checkpoint
        Assert.Equal(manifest.UploadedBytes, done.BytesDone);
        Assert.True(done.Finished >= done.Started && done.Started > DateTimeOffset.UnixEpoch);

        source.IsBackupNode = false; // leadership lost before the manifest: the backup is abandoned
        await Assert.ThrowsAsync<BackupException>(() => scheduler.RunOnceAsync());
        var failed = scheduler.Progress!;
        Assert.False(failed.Running);
        Assert.Contains("abandoned", failed.Error, StringComparison.Ordinal);
        Assert.NotEqual(manifest.Id, failed.BackupId);
    }

    [Fact]
    public async Task An_archiver_pass_reports_each_table_archived()
    {
        await using var bench = await BackupBench.CreateAsync(rgw);
        for (var t = 0; t < 3; t++)
        {
            await bench.FillAsync(200);
        }

        var sizes = bench.Store.ListTables().Where(t => !t.IsRemote).Sum(t => t.SizeBytes);
        var archiver = new Archiver(bench.Store, bench.S3, rgw.Options(bench.Bucket) with { DiskMaxBytes = 1 }, TimeProvider.System, NullLogger<Archiver>.Instance);
        Assert.Null(archiver.Progress);
        var reports = new ConcurrentQueue<MigrationProgress>();
        var result = await archiver.RunOnceAsync(new ProgressSink<MigrationProgress>(reports.Enqueue));

        Assert.Equal(3, result.TablesMigrated);
        Assert.Equal([0, 1, 2, 3, 3], reports.Select(p => p.TablesDone));
        Assert.All(reports, p => Assert.Equal((3, sizes), (p.TablesTotal, p.BytesTotal)));
        Assert.Equal([true, true, true, true, false], reports.Select(p => p.Running));
        Assert.Equal(sizes, reports.Last().BytesDone);
        Assert.Equal(reports.Last(), archiver.Progress);
        Assert.Null(archiver.Progress!.Error);
        Assert.NotNull(archiver.Progress.Finished);
    }

    private static async Task<BackupManifest> BackupAsync(BackupBench bench, IProgress<BackupProgress> progress)
    {
        var dir = Path.Combine(bench.Root, "cp-" + Guid.NewGuid().ToString("N"));
        var index = await bench.Store.CheckpointAsync(dir);
        using var source = new BackupSource(dir, index, 1, index, 0, 1, 0xabcdef, [new BackupMember(1, "127.0.0.1:7000")], DateTimeOffset.UtcNow, () => Directory.Delete(dir, recursive: true)) { ClusterUid = BackupBench.ClusterUid };
        return await bench.Writer.WriteAsync(source, () => true, progress, CancellationToken.None);
    }

    private sealed class Source(BackupBench bench) : IBackupCheckpointSource
    {
        private volatile bool _leader = true;

        public bool IsBackupNode
        {
            get => _leader;
            set => _leader = value;
        }

        public string? ClusterUid => BackupBench.ClusterUid;

        public async Task<BackupSource> TakeCheckpointAsync(CancellationToken cancellationToken)
        {
            var dir = Path.Combine(bench.Root, "cp-" + Guid.NewGuid().ToString("N"));
            var index = await bench.Store.CheckpointAsync(dir, cancellationToken);
            return new BackupSource(dir, index, 1, index, 0, 1, 7, [], DateTimeOffset.UtcNow, () => Directory.Delete(dir, recursive: true)) { ClusterUid = BackupBench.ClusterUid };
        }
    }
}
