using RaftKv.Storage.IO;
using static RaftKv.Storage.Tests.Helpers;

namespace RaftKv.Storage.Tests;

/// <summary>A full compaction reports its progress (the server's <c>/admin/compact/progress</c>, the dashboard's
/// progress bar): the level pushes it plans after its flush, one report per push with the input bytes, and a
/// last report not running, with the counters equal to the work done.</summary>
public sealed class CompactionProgressTests
{
    [Fact]
    public async Task Each_level_push_is_reported_up_to_the_planned_total()
    {
        using var tmp = new TempDir();
        await using var store = await LsmStore.OpenAsync(new LsmOptions
        {
            Directory = tmp.Path,
            FileSystem = PhysicalFileSystem.Instance,
            BackgroundWork = false,
            BlockSize = 512,
            TargetFileBytes = 16 << 10,
            L1TargetBytes = 32 << 10,
        });
        Assert.Null(store.ManualCompaction);
        long index = 1;
        async Task FillAsync(int from, int count)
        {
            for (var i = from; i < from + count; i++)
            {
                store.Apply(index++, [WriteOp.Put(B($"key{i:D6}"), B(new string((char)('a' + (index % 26)), 100)))]);
            }

            await store.FlushAsync();
        }

        await FillAsync(0, 400);
        await FillAsync(200, 400);
        await store.CompactAsync(0); // a tree below L0
        await FillAsync(100, 200);
        await FillAsync(500, 200); // and two tables in L0 again
        var shape = store.GetStats().TablesPerLevel;
        Assert.Equal(2, shape[0]);

        var reports = new List<CompactionProgress>();
        await store.CompactAsync(0, new Sink(reports.Add));

        Assert.True(reports.Count >= 4, $"{reports.Count} reports");
        Assert.Equal((true, 0, 0), (reports[0].Running, reports[0].StepsDone, reports[0].StepsTotal)); // started
        var planned = reports[1].StepsTotal;
        Assert.True(planned >= 2, $"planned {planned} pushes for levels {string.Join(',', shape)}");
        var pushes = reports.Skip(2).Take(reports.Count - 3).ToList();
        Assert.Equal(Enumerable.Range(1, planned), pushes.Select(p => p.StepsDone)); // one report per push, as planned
        Assert.All(pushes, p => Assert.Equal(planned, p.StepsTotal));
        Assert.True(pushes.Zip(pushes.Skip(1)).All(x => x.First.BytesDone < x.Second.BytesDone && x.First.Level < x.Second.Level), "bytes and levels advance");
        var last = reports[^1];
        Assert.Equal((false, planned, planned, null), (last.Running, last.StepsDone, last.StepsTotal, last.Error));
        Assert.Equal(last.BytesTotal, last.BytesDone);
        Assert.True(last.BytesDone > 0);
        Assert.NotNull(last.Finished);
        Assert.Equal(last, store.ManualCompaction);
        Assert.Equal(1, store.GetStats().TablesPerLevel.Count(c => c > 0)); // everything in one level
    }

    /// <summary>A full compaction whose first push leaves a level above its target (nothing deeper) moves that
    /// level's new tables down without rewriting them: every entry is written once, and the plan counts the
    /// one rewrite it makes.</summary>
    [Fact]
    public async Task A_level_the_compaction_just_wrote_moves_down_without_a_second_rewrite()
    {
        using var tmp = new TempDir();
        await using var store = await LsmStore.OpenAsync(new LsmOptions
        {
            Directory = tmp.Path,
            FileSystem = PhysicalFileSystem.Instance,
            BackgroundWork = false,
            BlockSize = 512,
            TargetFileBytes = 16 << 10,
            L1TargetBytes = 32 << 10,
            L0CompactionTrigger = 100,
        });
        long index = 1;
        for (var run = 0; run < 3; run++)
        {
            for (var i = run * 100; i < 1000; i++)
            {
                store.Apply(index++, [WriteOp.Put(B($"key{i:D6}"), B(new string((char)('a' + run), 100)))]);
            }

            await store.FlushAsync();
        }

        Assert.Equal(3, store.GetStats().TablesPerLevel[0]);
        var reports = new List<CompactionProgress>();
        await store.CompactAsync(0, new Sink(reports.Add));

        var stats = store.GetStats();
        Assert.Equal(1, stats.Compactions); // L0 → L1 once; L1 (over its target) moved to L2, not rewritten
        Assert.True(stats.TrivialMoves > 0, $"{stats.TrivialMoves} trivial moves");
        Assert.True(stats.BytesPerLevel[1] == 0 && stats.BytesPerLevel[2] > 32 << 10, $"levels {string.Join(',', stats.BytesPerLevel)}");
        Assert.Equal((1, 1), (reports[1].StepsTotal, reports[^1].StepsDone)); // planned as made
        for (var i = 0; i < 1000; i++)
        {
            var e = await store.GetAsync(B($"key{i:D6}"), 0);
            Assert.Equal(new string((char)('a' + Math.Min(2, i / 100)), 100), System.Text.Encoding.UTF8.GetString(e!.Value.Value.Span));
        }
    }

    private sealed class Sink(Action<CompactionProgress> report) : IProgress<CompactionProgress>
    {
        public void Report(CompactionProgress value) => report(value);
    }
}
