using RaftKv.Storage.IO;
using RaftKv.TestSupport.IO;

namespace RaftKv.Storage.Tests;

/// <summary>
/// The fail-stop rule of <see cref="FailStopFileSystem"/>: ENOSPC while writing passes through
/// (recoverable); a failed fsync — any errno, ENOSPC included — a failed directory fsync and an I/O error
/// writing data are fatal: the handler hears of it once, with the path, and from then on nothing reaches
/// the disk (no retried fsync: after a failure one may "succeed" without the data).
/// </summary>
public sealed class FailStopFileSystemTests
{
    private readonly CrashableMemoryFileSystem _disk = new();
    private readonly RecordingFatalErrorHandler _handler = new();
    private readonly FailStopFileSystem _fs;

    public FailStopFileSystemTests()
    {
        _fs = new FailStopFileSystem(_disk, new StorageFailStop(_handler));
        _disk.CreateDirectory("/d");
    }

    [Theory]
    [InlineData("append")]
    [InlineData("sync")]
    [InlineData("create")]
    public void DiskFullWhileWritingIsNotFatal(string operation)
    {
        FailOnce(operation, "/d/a", new DiskFullException("no space left on device (injected)"));
        Assert.Throws<DiskFullException>(() =>
        {
            using var f = _fs.Create("/d/a");
            f.Append([1, 2, 3]);
            f.Sync();
        });

        Assert.Empty(_handler.Faults);
        using (var again = _fs.Create("/d/a"))
        {
            again.Append([1, 2, 3]);
            again.Sync(); // space is back: the same write succeeds
        }

        _fs.SyncDirectory("/d");
        _disk.Crash();
        Assert.Equal(3, _disk.GetLength("/d/a"));
    }

    [Theory]
    [InlineData(5)] // EIO
    [InlineData(28)] // ENOSPC from fsync itself: not disk-full, fatal
    public void FailedFsyncIsFatalAndNothingIsWrittenAfterIt(int errno)
    {
        using (var before = _fs.Create("/d/before"))
        {
            before.Append([9]);
            before.Sync();
        }

        _fs.SyncDirectory("/d");
        FailOnce("sync", "/d/a", new FsyncFailedException("/d/a", errno));
        var f = _fs.Create("/d/a");
        f.Append([1, 2, 3]);
        var e = Assert.Throws<StorageFailStopException>(f.Sync);
        Assert.IsNotType<DiskFullException>(e);
        Assert.False(DiskFullException.IsDiskFull(e));
        var fault = Assert.Single(_handler.Faults);
        Assert.Equal("/d/a", fault.Path);
        Assert.Equal(StorageOperation.Fsync, fault.Operation);
        Assert.IsType<FsyncFailedException>(fault.Cause);
        Assert.Contains("fsync of '/d/a' failed", e.Message, StringComparison.Ordinal);

        // The disk would now accept a retry; none reaches it, nor anything else that writes.
        var reached = new List<string>();
        _disk.BeforeOperation = (op, path) => reached.Add($"{op} {path}");
        Assert.Throws<StorageFailStopException>(f.Sync);
        Assert.Throws<StorageFailStopException>(() => f.Append([4]));
        Assert.Throws<StorageFailStopException>(() => _fs.Create("/d/b"));
        Assert.Throws<StorageFailStopException>(() => _fs.SyncDirectory("/d"));
        Assert.Throws<StorageFailStopException>(() => _fs.Rename("/d/a", "/d/c"));
        Assert.Throws<StorageFailStopException>(() => _fs.Delete("/d/before"));
        Assert.Throws<StorageFailStopException>(() => _fs.Link("/d/before", "/d/link"));
        Assert.Throws<StorageFailStopException>(() => _fs.DeleteDirectory("/d"));
        f.Dispose();
        Assert.Empty(reached);
        Assert.True(_disk.Exists("/d/before"));
        Assert.Single(_handler.Faults); // once

        // Reads still work.
        using var r = _fs.OpenRead("/d/before");
        Assert.Equal(1, r.Length);
    }

    [Fact]
    public void FailedDirectoryFsyncIsFatal()
    {
        FailOnce("syncdir", "/d", new FsyncFailedException("/d", 5));
        using (var f = _fs.Create("/d/a"))
        {
            f.Append([1]);
            f.Sync();
        }

        Assert.Throws<StorageFailStopException>(() => _fs.SyncDirectory("/d"));
        var fault = Assert.Single(_handler.Faults);
        Assert.Equal(("/d", StorageOperation.DirectoryFsync), (fault.Path, fault.Operation));
    }

    [Fact]
    public void WriteErrorOtherThanEnospcIsFatal()
    {
        FailOnce("append", "/d/a", new IOException("EIO (injected)"));
        using var f = _fs.Create("/d/a");
        Assert.Throws<StorageFailStopException>(() => f.Append([1]));
        var fault = Assert.Single(_handler.Faults);
        Assert.Equal(("/d/a", StorageOperation.Write), (fault.Path, fault.Operation));
    }

    [Fact]
    public void WithoutAHandlerTheFaultIsStillRecordedAndEnforced()
    {
        var failStop = new StorageFailStop();
        var fs = new FailStopFileSystem(_disk, failStop);
        FailOnce("sync", "/d/a", new FsyncFailedException("/d/a", 5));
        using var f = fs.Create("/d/a");
        Assert.Throws<StorageFailStopException>(f.Sync);
        Assert.Equal("/d/a", failStop.Fault?.Path);
        Assert.Throws<StorageFailStopException>(() => fs.Create("/d/b"));
    }

    private void FailOnce(string operation, string path, Exception error)
    {
        var armed = 1;
        _disk.BeforeOperation = (op, p) =>
        {
            if (op == operation && p == path && Interlocked.Exchange(ref armed, 0) == 1)
            {
                _disk.BeforeOperation = null;
                throw error;
            }
        };
    }
}
