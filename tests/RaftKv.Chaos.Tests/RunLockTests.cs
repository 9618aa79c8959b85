using RaftKv.Chaos.Harness;

namespace RaftKv.Chaos.Tests;

public sealed class RunLockTests
{
    [Fact]
    public async Task ASecondRunWaitsForTheFirstAndGetsTheLockWhenItEnds()
    {
        var dir = Path.Combine(Path.GetTempPath(), "raftkv-runlock-" + Guid.NewGuid().ToString("N"));
        try
        {
            var log = new StringWriter();
            var first = await RunLock.AcquireAsync(dir, log, TimeSpan.FromSeconds(5));
            await Assert.ThrowsAsync<IOException>(() => RunLock.AcquireAsync(dir, log, TimeSpan.FromSeconds(2)));
            Assert.Contains("waiting", log.ToString());

            var second = RunLock.AcquireAsync(dir, log, TimeSpan.FromSeconds(60));
            first.Dispose();
            (await second).Dispose();
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}
