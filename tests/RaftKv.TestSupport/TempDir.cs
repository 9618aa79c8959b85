namespace RaftKv.TestSupport;

/// <summary>A fresh directory under the system temp directory, deleted (best effort) on dispose.</summary>
public sealed class TempDir : IDisposable
{
    public TempDir(string prefix = "raftkv-test-")
    {
        Path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), prefix + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(Path);
    }

    public string Path { get; }

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
