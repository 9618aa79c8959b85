using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace RaftKv.Storage.IO;

/// <summary>The real file system: <see cref="RandomAccess"/> reads, fsync via <c>FileStream.Flush(true)</c>,
/// directory fsync through libc.</summary>
public sealed partial class PhysicalFileSystem : IFileSystem
{
    public static readonly PhysicalFileSystem Instance = new();

    public IWritableFile Create(string path) => new WritableFile(path);

    public IReadableFile OpenRead(string path) => new ReadableFile(path);

    public bool Exists(string path) => File.Exists(path);

    public long GetLength(string path) => new FileInfo(path).Length;

    public void Rename(string source, string destination) => File.Move(source, destination, overwrite: true);

    public void Delete(string path) => File.Delete(path);

    public void CreateDirectory(string path) => Directory.CreateDirectory(path);

    public void DeleteDirectory(string path)
    {
        if (Directory.Exists(path))
        {
            Directory.Delete(path, recursive: true);
        }
    }

    public IReadOnlyList<string> ListFiles(string directory)
        => Directory.Exists(directory)
            ? Directory.EnumerateFiles(directory).Select(Path.GetFileName).OfType<string>().ToList()
            : [];

    public bool DirectoryExists(string path) => Directory.Exists(path);

    public IReadOnlyList<string> ListDirectories(string directory)
        => Directory.Exists(directory)
            ? Directory.EnumerateDirectories(directory).Select(Path.GetFileName).OfType<string>().ToList()
            : [];

    public void RenameDirectory(string source, string destination) => Directory.Move(source, destination);

    public void SyncDirectory(string directory)
    {
        if (!OperatingSystem.IsLinux() && !OperatingSystem.IsMacOS())
        {
            return;
        }

        var fd = Open(directory, 0 /* O_RDONLY */);
        if (fd < 0)
        {
            throw new IOException($"cannot open directory '{directory}' for fsync (errno {Marshal.GetLastPInvokeError()})");
        }

        try
        {
            if (Fsync(fd) != 0)
            {
                throw new FsyncFailedException(directory, Marshal.GetLastPInvokeError());
            }
        }
        finally
        {
            _ = Close(fd);
        }
    }

    public void Link(string source, string destination)
    {
        if ((OperatingSystem.IsLinux() || OperatingSystem.IsMacOS()) && LinkNative(source, destination) == 0)
        {
            return;
        }

        File.Copy(source, destination, overwrite: true);
        using var handle = File.OpenHandle(destination, FileMode.Open, FileAccess.ReadWrite);
        RandomAccess.FlushToDisk(handle);
    }

    [LibraryImport("libc", EntryPoint = "open", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    private static partial int Open(string path, int flags);

    [LibraryImport("libc", EntryPoint = "fsync", SetLastError = true)]
    private static partial int Fsync(int fd);

    [LibraryImport("libc", EntryPoint = "close", SetLastError = true)]
    private static partial int Close(int fd);

    [LibraryImport("libc", EntryPoint = "link", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    private static partial int LinkNative(string oldPath, string newPath);

    /// <summary>Out of space (ENOSPC) while writing surfaces as <see cref="DiskFullException"/> from the
    /// constructor, <see cref="Append"/> and the write of buffered data in <see cref="Sync"/>; a failure of
    /// the fsync itself, whatever its errno, as <see cref="FsyncFailedException"/> (never retryable); any
    /// other I/O error as it is.</summary>
    private sealed class WritableFile : IWritableFile
    {
        private readonly string _path;
        private readonly FileStream _stream;

        public WritableFile(string path)
        {
            _path = path;
            try
            {
                _stream = new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.Read, 1 << 16);
            }
            catch (IOException e)
            {
                throw DiskFullException.Translate(e, path);
            }
        }

        public long Length => _stream.Position;

        public void Append(ReadOnlySpan<byte> data)
        {
            try
            {
                _stream.Write(data);
            }
            catch (IOException e)
            {
                throw DiskFullException.Translate(e, _path);
            }
        }

        public void Sync()
        {
            try
            {
                _stream.Flush(flushToDisk: false); // write(2) of the buffered bytes: ENOSPC here is recoverable
            }
            catch (IOException e)
            {
                throw DiskFullException.Translate(e, _path);
            }

            try
            {
                _stream.Flush(flushToDisk: true); // nothing is buffered any more: only the fsync(2) is left
            }
            catch (IOException e)
            {
                throw new FsyncFailedException(_path, ErrnoOf(e), e);
            }
        }

        // .NET reports errno in the low bits of HResult for Unix I/O errors (0 when unknown).
        private static int ErrnoOf(IOException e) => e.HResult is > 0 and < 4096 ? e.HResult : 0;

        public void Dispose()
        {
            try
            {
                _stream.Dispose();
            }
            catch (IOException)
            {
                // Buffered bytes that could not be written (out of space): the caller already saw the
                // error from Append or Sync and never counted them as durable.
            }
        }
    }

    private sealed class ReadableFile : IReadableFile
    {
        private readonly SafeFileHandle _handle;

        public ReadableFile(string path)
        {
            _handle = File.OpenHandle(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
            Length = RandomAccess.GetLength(_handle);
        }

        public long Length { get; }

        public void ReadExactly(long offset, Span<byte> buffer)
        {
            var done = 0;
            while (done < buffer.Length)
            {
                var n = RandomAccess.Read(_handle, buffer[done..], offset + done);
                if (n == 0)
                {
                    throw new EndOfStreamException($"unexpected end of file at offset {offset + done}");
                }

                done += n;
            }
        }

        public void Dispose() => _handle.Dispose();
    }
}
