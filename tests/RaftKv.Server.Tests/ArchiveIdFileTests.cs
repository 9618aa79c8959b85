using RaftKv.Server.Configuration;
using RaftKv.Server.Hosting;

namespace RaftKv.Server.Tests;

/// <summary>The archive id of a data directory (<see cref="ArchiveIdFile"/>): made once, kept across restarts,
/// different for every data directory, a bad file a start-up error naming it; the archive prefix includes it.</summary>
public sealed class ArchiveIdFileTests : IDisposable
{
    private readonly string _root = Path.Combine(Path.GetTempPath(), "raftkv-archive-id-" + Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        if (Directory.Exists(_root))
        {
            Directory.Delete(_root, recursive: true);
        }
    }

    [Fact]
    public void MadeOnceAndKept()
    {
        var dir = Path.Combine(_root, "n1"); // not there yet: made with the id
        var id = ArchiveIdFile.LoadOrCreate(dir);
        Assert.Matches("^[0-9a-f]{16}$", id);
        Assert.Equal(id + "\n", File.ReadAllText(Path.Combine(dir, ArchiveIdFile.FileName)));
        Assert.Equal(id, ArchiveIdFile.LoadOrCreate(dir));
        Assert.False(File.Exists(Path.Combine(dir, ArchiveIdFile.FileName + ".tmp")));
    }

    [Fact]
    public void EveryDataDirectoryGetsItsOwnPrefix()
    {
        var config = ConfigLoader.Load([], new Dictionary<string, string?>()) with { NodeId = 1 };
        var a = NodeLifetime.ArchivePrefix(config, ArchiveIdFile.LoadOrCreate(Path.Combine(_root, "a")));
        var b = NodeLifetime.ArchivePrefix(config, ArchiveIdFile.LoadOrCreate(Path.Combine(_root, "b")));
        Assert.NotEqual(a, b);
        Assert.StartsWith("nodes/1/", a, StringComparison.Ordinal);
        Assert.EndsWith("/", a, StringComparison.Ordinal);
        Assert.False(a.StartsWith(b, StringComparison.Ordinal) || b.StartsWith(a, StringComparison.Ordinal)); // neither lists the other's objects
    }

    [Theory]
    [InlineData("")]
    [InlineData("not-hex-not-hex!")]
    [InlineData("0123456789abcdef0")]
    public void AFileThatHoldsNoIdIsAnErrorNamingIt(string content)
    {
        Directory.CreateDirectory(_root);
        var path = Path.Combine(_root, ArchiveIdFile.FileName);
        File.WriteAllText(path, content);
        var e = Assert.Throws<FormatException>(() => ArchiveIdFile.LoadOrCreate(_root));
        Assert.Contains(path, e.Message, StringComparison.Ordinal);
    }
}
