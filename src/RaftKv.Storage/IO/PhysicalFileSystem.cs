using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace RaftKv.Storage.IO;

/// <summary>The real file system: <see cref="RandomAccess"/> reads and writes, fdatasync of files and
/// fsync of directories through libc's <c>fdatasync</c> and <c>fsync</c> (never .NET's <c>FileStream.Flush(true)</c> /
/// <c>RandomAccess.FlushToDisk</c>: on Linux they ignore a failed fsync, see <see cref="FsyncOrThrow"/>).</summary>
public sealed partial class PhysicalFileSystem : IFileSystem
{
    public static readonly PhysicalFileSystem Instance = new();

    public IWritableFile Create(string path) => new WritableFile(path, FileMode.Create);

    public IWritableFile OpenForOverwrite(string path) => new WritableFile(path, FileMode.Open);

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
            if (FsyncErrno(fd) is var errno and not 0)
            {
                throw new FsyncFailedException(directory, errno);
            }
        }
        finally
        {
            _ = Close(fd);
        }
    }

    public IDisposable LockDirectory(string directory)
    {
        var path = Path.Combine(directory, "LOCK");
        try
        {
            // FileShare.None is an exclusive flock(2) on Unix (and a sharing lock on Windows): advisory, released by the
            // kernel when the process dies, so it never outlives its holder.
            return new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None, 1);
        }
        catch (IOException e) when (e is not FileNotFoundException and not DirectoryNotFoundException)
        {
            throw new DirectoryLockedException(directory, e);
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
        FsyncOrThrow(handle, destination);
    }

    [LibraryImport("libc", EntryPoint = "open", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    private static partial int Open(string path, int flags);

    [LibraryImport("libc", EntryPoint = "close", SetLastError = true)]
    private static partial int Close(int fd);

    [LibraryImport("libc", EntryPoint = "link", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    private static partial int LinkNative(string oldPath, string newPath);

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
