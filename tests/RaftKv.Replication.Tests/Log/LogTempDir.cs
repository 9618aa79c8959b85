namespace RaftKv.Replication.Tests.Log;

/// <summary>A fresh directory under the system temp directory, deleted on dispose.</summary>
internal sealed class LogTempDir : IDisposable
{
    public LogTempDir() => Directory.CreateDirectory(Path);

    public string Path { get; } = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "raftkv-log-test-" + Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        try
        {
            Directory.Delete(Path, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
