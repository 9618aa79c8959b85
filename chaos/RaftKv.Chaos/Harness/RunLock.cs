namespace RaftKv.Chaos.Harness;

/// <summary>
/// One seed at a time per machine: a seed starts by deleting every leftover <c>rkv*</c> network
/// namespace, which would tear down the cluster of a concurrently running seed (a long profile in
/// the background while the test suite runs its short one). Holding this lock (an exclusive open of
/// a lock file, which .NET maps to <c>flock</c>, released by the kernel if the process dies) makes a
/// second run wait instead.
/// </summary>
public sealed class RunLock : IDisposable
{
    /// <summary>Where every run takes the lock, whatever its work directory: the namespaces a seed deletes are
    /// machine-wide, so a lock per work directory (the test suite's <c>raftkv-chaos-tests</c>, the CLI's
    /// <c>raftkv-chaos</c>) let a test run tear down a CLI run's network mid-seed (membership rerun, seed 1).</summary>
    public static readonly string MachineWideDirectory = Path.Combine("/tmp", "raftkv-chaos");

    private readonly FileStream _file;

    private RunLock(FileStream file) => _file = file;

    public static async Task<RunLock> AcquireAsync(string workDir, TextWriter log, TimeSpan timeout)
    {
        Directory.CreateDirectory(workDir);
        var path = Path.Combine(workDir, ".run.lock");
        var deadline = DateTime.UtcNow + timeout;
        var announced = false;
        while (true)
        {
            try
            {
                return new RunLock(new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None));
            }
            catch (IOException) when (DateTime.UtcNow < deadline)
            {
                if (!announced)
                {
                    log.WriteLine($"another raftkv-chaos seed is running on this machine ({path} is locked); waiting");
                    announced = true;
                }

                await Task.Delay(TimeSpan.FromSeconds(1));
            }
        }
    }

    public void Dispose() => _file.Dispose();
}
