using RaftKv.Storage.IO;
using RaftKv.TestSupport.IO;

namespace RaftKv.Storage.Tests;

/// <summary><see cref="IFileSystem.LockDirectory"/>: one holder at a time, released by disposal — and by a crash in the
/// simulated file system, as the kernel releases a dead process's locks.</summary>
public sealed class DirectoryLockTests
{
    [Fact]
    public void ThePhysicalLockRefusesASecondHolderUntilReleased()
    {
        using var dir = new TempDir();
        var fs = new PhysicalFileSystem();
        var held = fs.LockDirectory(dir.Path);
        var e = Assert.Throws<DirectoryLockedException>(() => fs.LockDirectory(dir.Path));
        Assert.Equal(dir.Path, e.Directory);
        held.Dispose();
        fs.LockDirectory(dir.Path).Dispose();
    }

    [Fact]
    public void TheSimulatedLockIsReleasedByACrash()
    {
        var fs = new CrashableMemoryFileSystem();
        fs.CreateDirectory("/d");
        var before = fs.LockDirectory("/d");
        Assert.Throws<DirectoryLockedException>(() => fs.LockDirectory("/d"));
        fs.Crash();
        var after = fs.LockDirectory("/d"); // the restarted process takes it
        before.Dispose(); // the dead holder's handle does not release the new one
        Assert.Throws<DirectoryLockedException>(() => fs.LockDirectory("/d"));
        after.Dispose();
        fs.LockDirectory("/d").Dispose();
    }
}
