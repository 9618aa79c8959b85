using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace RaftKv.Storage.IO;

public sealed partial class PhysicalFileSystem
{
    private const int Eintr = 4;

    /// <summary>
    /// libc's fsync and fdatasync as the process's global symbol scope resolves them (<c>dlsym</c> on the main
    /// program, like a C program's own call): a <c>dlopen("libc")</c> handle would bypass an LD_PRELOAD
    /// interposer, such as the test-only fault-injection shim, which a C caller would see.
    /// </summary>
    private static readonly unsafe delegate* unmanaged<int, int> FsyncExport = OperatingSystem.IsLinux() || OperatingSystem.IsMacOS()
        ? (delegate* unmanaged<int, int>)NativeLibrary.GetExport(NativeLibrary.GetMainProgramHandle(), "fsync")
        : null;

    /// <summary>fdatasync on Linux (data and the metadata needed to read it back, e.g. a grown size; not
    /// timestamps), fsync elsewhere (macOS has no fdatasync export).</summary>
    private static readonly unsafe delegate* unmanaged<int, int> DatasyncExport = OperatingSystem.IsLinux()
        ? (delegate* unmanaged<int, int>)NativeLibrary.GetExport(NativeLibrary.GetMainProgramHandle(), "fdatasync")
        : FsyncExport;

    /// <summary>fsync(2) (or, with <paramref name="dataOnly"/>, fdatasync(2)) of <paramref name="fd"/>, retried
    /// on EINTR: 0, or the errno it failed with.</summary>
    private static unsafe int FsyncErrno(int fd, bool dataOnly = false)
    {
        var sync = dataOnly ? DatasyncExport : FsyncExport;
        while (true)
        {
            Marshal.SetLastSystemError(0);
            if (sync(fd) == 0)
            {
                return 0;
            }

            var errno = Marshal.GetLastSystemError();
            if (errno != Eintr)
            {
                return errno == 0 ? 5 : errno; // failed without errno: report EIO
            }
        }
    }

    /// <summary>
    /// fsync(2) of <paramref name="handle"/> (fdatasync(2) on Linux with <paramref name="dataOnly"/>); any failure
    /// (EINTR retried) is a <see cref="FsyncFailedException"/>.
    /// Not <c>FileStream.Flush(true)</c> or <c>RandomAccess.FlushToDisk</c>: in .NET 10 on Linux their native
    /// shim (<c>SystemNative_FSync</c>) returns <c>fsync(fd) &lt; 0</c> — 1 on failure — and the managed
    /// caller checks for a negative result, so a failed fsync is reported as success (seen with fsync
    /// failing EIO under an LD_PRELOAD shim; tests/RaftKv.EndToEnd.Tests/FaultInjection).
    /// </summary>
    internal static void FsyncOrThrow(SafeFileHandle handle, string path, bool dataOnly = false)
    {
        if (!OperatingSystem.IsLinux() && !OperatingSystem.IsMacOS())
        {
            RandomAccess.FlushToDisk(handle); // Windows: FlushFileBuffers, whose failure it reports
            return;
        }

        var added = false;
        try
        {
            handle.DangerousAddRef(ref added);
            if (FsyncErrno((int)handle.DangerousGetHandle(), dataOnly) is var errno and not 0)
            {
                throw new FsyncFailedException(path, errno);
            }
        }
        finally
        {
            if (added)
            {
                handle.DangerousRelease();
            }
        }
    }

    /// <summary>
    /// A file written front to back: a 64 KiB buffer, <c>pwrite</c> through <see cref="RandomAccess"/> at the
    /// handle's own offset (from 0: a created file is appended to, an opened one overwritten in place), and our
    /// own fdatasync (fsync outside Linux). fdatasync is what etcd's WAL and RocksDB use: it skips the inode
    /// write when only timestamps changed, which is every sync of a preallocated log segment. Out of space (ENOSPC) while writing surfaces as <see cref="DiskFullException"/> from the
    /// constructor, <see cref="Append"/> and the write of buffered data in <see cref="Sync"/>; a failure of
    /// the fsync itself, whatever its errno, as <see cref="FsyncFailedException"/> (never retryable); any
    /// other I/O error as it is.
    /// </summary>
    private sealed class WritableFile : IWritableFile
    {
        private readonly string _path;
        private readonly SafeFileHandle _handle;
        private readonly byte[] _buffer = new byte[1 << 16];
        private int _buffered;
        private long _written; // bytes handed to the kernel

        public WritableFile(string path, FileMode mode)
        {
            _path = path;
            try
            {
                _handle = File.OpenHandle(path, mode, FileAccess.Write, FileShare.Read);
            }
            catch (IOException e)
            {
                throw DiskFullException.Translate(e, path);
            }
        }

        public long Length => _written + _buffered;

        public void Append(ReadOnlySpan<byte> data)
        {
            if (data.Length > _buffer.Length - _buffered)
            {
                WriteBuffer();
            }

            if (data.Length >= _buffer.Length)
            {
                Write(data); // large: straight through, no copy
                return;
            }

            data.CopyTo(_buffer.AsSpan(_buffered));
            _buffered += data.Length;
        }

        public void Sync()
        {
            WriteBuffer(); // ENOSPC here is recoverable: nothing was fsynced
            FsyncOrThrow(_handle, _path, dataOnly: true); // any failure here is not
        }

        public void Dispose()
        {
            try
            {
                WriteBuffer();
            }
            catch (IOException)
            {
                // Buffered bytes that could not be written (out of space): never counted as durable
                // (only Sync makes anything durable, and its caller saw its error).
            }

            _handle.Dispose();
        }

        private void WriteBuffer()
        {
            if (_buffered == 0)
            {
                return;
            }

            Write(_buffer.AsSpan(0, _buffered));
            _buffered = 0;
        }

        private void Write(ReadOnlySpan<byte> data)
        {
            try
            {
                RandomAccess.Write(_handle, data, _written);
            }
            catch (IOException e)
            {
                throw DiskFullException.Translate(e, _path);
            }

            _written += data.Length;
        }
    }
}
