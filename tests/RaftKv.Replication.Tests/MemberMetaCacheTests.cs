using System.Text;
using RaftKv.TestSupport.IO;

namespace RaftKv.Replication.Tests;

/// <summary><c>{DATA_DIR}/member-meta</c>: what was saved comes back after a crash; a file of another version, a torn
/// one or bad lines read as nothing rather than as wrong ids. (<see cref="DeadMemberIdTests"/>: the cluster behaviour.)</summary>
public sealed class MemberMetaCacheTests
{
    private const string Path = "/data/member-meta";

    [Fact]
    public void SavedEntriesSurviveACrashAndOthersReadAsEmpty()
    {
        var fs = new CrashableMemoryFileSystem();
        fs.CreateDirectory("/data");
        var cache = new MemberMetaCache(fs, Path);
        Assert.Empty(cache.Load()); // no file yet
        var entries = new Dictionary<string, (long, string, string)>
        {
            ["127.0.0.1:7002"] = (2, "127.0.0.1:9002", "127.0.0.1:8002"),
            ["127.0.0.1:7003"] = (3, "h3:9003", "h\tbad:8003"),
        };
        Assert.Null(cache.Save(entries));
        fs.Crash(); // written, fsynced and renamed before Save returned
        var back = new MemberMetaCache(fs, Path).Load();
        Assert.Equal((2L, "127.0.0.1:9002", "127.0.0.1:8002"), back["127.0.0.1:7002"]);
        Assert.Equal((3L, "h3:9003", "h bad:8003"), back["127.0.0.1:7003"]); // a tab cannot split a line

        Write(fs, "raftkv-member-meta 2\n127.0.0.1:7002\t2\ta\tb\n");
        Assert.Empty(cache.Load()); // another version: nothing
        Write(fs, "raftkv-member-meta 1\n127.0.0.1:7002\ttwo\ta\tb\n127.0.0.1:7003\t3\ta\n127.0.0.1:7004\t0\ta\tb\n127.0.0.1:7005\t5\ta\tb\n");
        Assert.Equal(["127.0.0.1:7005"], cache.Load().Keys); // a bad id, a short line, id 0: skipped
    }

    private static void Write(CrashableMemoryFileSystem fs, string text)
    {
        using var file = fs.Create(Path);
        file.Append(Encoding.UTF8.GetBytes(text));
        file.Sync();
    }
}
