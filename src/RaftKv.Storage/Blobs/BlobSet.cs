using System.Buffers.Binary;
using System.Globalization;
using System.Security.Cryptography;
using RaftKv.Storage.IO;

namespace RaftKv.Storage.Blobs;

/// <summary>
/// The value files of one store directory (key-value separation, docs/architecture.md "Large values outside the
/// LSM levels"): which exist, how many live tables point into each and how many of their bytes those tables still
/// reference, and the reads of separated values.
/// </summary>
/// <remarks>
/// <para>Lifetime: a file is referenced by every table reader whose meta lists it (<see cref="Acquire"/> when the
/// reader is opened, <see cref="Release"/> when its last reference goes) and by its writer until the job that wrote it
/// is over (<see cref="Create"/> … <see cref="ReleaseCreator"/>). When the count reaches zero the file is deleted: no
/// live or pinned table points into it any more (a reader resolving a pointer holds its table, hence the file).
/// Files found at open that no table references are orphans of an interrupted job (<see cref="DeleteUnreferenced"/>).</para>
/// <para>Ids are random 64-bit numbers, not the store's file numbers: a checkpoint's value files keep their names
/// when another store ingests it (whose table ids are renumbered), so the pointers in its tables stay valid.</para>
/// <para>Concurrency: every member is thread-safe; <c>_lock</c> guards <c>_files</c> and each entry's fields. Reads
/// take the lock only to find the file's handle and read outside it (positional reads are safe concurrently).</para>
/// </remarks>
internal sealed class BlobSet : IDisposable
{
    private readonly IFileSystem _fs;
    private readonly string _dir;
    private readonly object _lock = new();
    private readonly Dictionary<ulong, Entry> _files = []; // guarded by _lock
    private bool _closing; // guarded by _lock

    public BlobSet(IFileSystem fs, string directory)
    {
        _fs = fs;
        _dir = directory;
    }

    public const string Extension = ".blob";

    public static string FileName(ulong id) => id.ToString("x16", CultureInfo.InvariantCulture) + Extension;

    /// <summary>The id of a value file's name, or null when <paramref name="name"/> is not one.</summary>
    public static ulong? ParseName(string name)
        => name.Length == 16 + Extension.Length && name.EndsWith(Extension, StringComparison.Ordinal)
           && ulong.TryParse(name.AsSpan(0, 16), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var id)
            ? id
            : null;

    public string PathOf(ulong id) => Path.Combine(_dir, FileName(id));

    /// <summary>Number of value files, their bytes, and the bytes live tables reference.</summary>
    public (int Files, long Bytes, long LiveBytes) Totals
    {
        get
        {
            lock (_lock)
            {
                return (_files.Count, _files.Values.Sum(e => e.Size), _files.Values.Sum(e => e.LiveBytes));
            }
        }
    }

    /// <summary>Creates a new value file, referenced by its writer until <see cref="ReleaseCreator"/>.</summary>
    public BlobWriter Create()
    {
        lock (_lock)
        {
            ulong id;
            do
            {
                id = BinaryPrimitives.ReadUInt64LittleEndian(RandomNumberGenerator.GetBytes(8));
            }
            while (id == 0 || _files.ContainsKey(id) || _fs.Exists(PathOf(id)));

            var path = PathOf(id);
            var file = _fs.Create(path);
            try
            {
                var writer = new BlobWriter(file, id, path); // writes the header
                _files[id] = new Entry { Refs = 1 };
                return writer;
            }
            catch
            {
                file.Dispose();
                _fs.Delete(path);
                throw;
            }
        }
    }

    /// <summary>The writer's job is over: <paramref name="writer"/>'s file is complete (<paramref name="sealedSize"/> bytes,
    /// durable) when <paramref name="sealedSize"/> is given, else abandoned; drops the writer's reference (an abandoned
    /// or unreferenced file is deleted).</summary>
    public void ReleaseCreator(BlobWriter writer, long? sealedSize)
    {
        writer.Dispose();
        lock (_lock)
        {
            var e = _files[writer.Id];
            if (sealedSize is { } size)
            {
                e.Size = size;
                e.Sealed = true;
            }

            DecrementLocked(writer.Id, e);
        }
    }

    /// <summary>Registers an existing, complete file (found at open, or linked in by an ingest) without a reference;
    /// a no-op when it is already known.</summary>
    public void Register(ulong id)
    {
        lock (_lock)
        {
            if (!_files.ContainsKey(id))
            {
                _files[id] = new Entry { Size = _fs.GetLength(PathOf(id)), Sealed = true };
            }
        }
    }

    /// <summary>Links the value file <paramref name="source"/> (a checkpoint's) into the directory as value file
    /// <paramref name="id"/> and registers it, unless the directory already has it (ids are unique and files
    /// immutable: the same id is the same file). Atomic with deletions, so a file released meanwhile is linked again
    /// rather than lost.</summary>
    public void Adopt(ulong id, string source)
    {
        lock (_lock)
        {
            if (!_files.ContainsKey(id))
            {
                _fs.Link(source, PathOf(id));
                _files[id] = new Entry { Size = _fs.GetLength(PathOf(id)), Sealed = true };
            }
        }
    }

    /// <summary>Adds a table's references; a file that does not exist is corruption of <paramref name="tablePath"/>.</summary>
    public void Acquire(IReadOnlyList<BlobRef> refs, string tablePath)
    {
        lock (_lock)
        {
            foreach (var r in refs)
            {
                if (!_files.ContainsKey(r.FileId))
                {
                    throw new StorageCorruptionException(tablePath, $"value file {FileName(r.FileId)} it points into is missing");
                }
            }

            foreach (var r in refs)
            {
                var e = _files[r.FileId];
                e.Refs++;
                e.LiveBytes += r.Bytes;
            }
        }
    }

    /// <summary>Drops a released table's references; files left unreferenced are deleted.</summary>
    public void Release(IReadOnlyList<BlobRef> refs)
    {
        lock (_lock)
        {
            foreach (var r in refs)
            {
                if (_files.TryGetValue(r.FileId, out var e))
                {
                    e.LiveBytes -= r.Bytes;
                    DecrementLocked(r.FileId, e);
                }
            }
        }
    }

    /// <summary>Deletes the registered files no table references (after open: orphans of an interrupted job).</summary>
    public void DeleteUnreferenced()
    {
        lock (_lock)
        {
            foreach (var (id, e) in _files.Where(f => f.Value.Refs == 0).ToList())
            {
                DeleteLocked(id, e);
            }
        }
    }

    /// <summary>Whether a compaction should copy the values it meets in file <paramref name="id"/> into a new file:
    /// true when less than half of a complete file is still referenced (the rest died with the history records that
    /// compactions dropped), so the file can go once its remaining values have moved.</summary>
    public bool ShouldRelocate(ulong id)
    {
        lock (_lock)
        {
            return _files.TryGetValue(id, out var e) && e.Sealed && e.LiveBytes * 2 < e.Size;
        }
    }

    /// <summary>Reads the value <paramref name="p"/> points at, verifying its record (length and CRC32C); a mismatch or
    /// a missing file is corruption, reported against <paramref name="tablePath"/> and the value file. With
    /// <paramref name="readAhead"/> (a reader resolving pointers in key order) a small value of a complete file is served
    /// from, or read with, a window of the bytes after it.</summary>
    public byte[] Read(BlobPointer p, string tablePath, BlobReadAhead? readAhead = null)
    {
        var recordBytes = BlobWriter.RecordHeaderSize + p.Length;
        var windowed = readAhead is not null && BlobReadAhead.Serves(recordBytes);
        if (windowed && readAhead!.TryGet(p.FileId, p.Offset, recordBytes, out var held))
        {
            return Verified(held, p);
        }

        var (handle, size) = LiveHandle(p, tablePath);
        if (windowed && size > 0) // complete: its bytes are final and its size known
        {
            if (p.Offset + recordBytes > size)
            {
                throw RunsPastEnd(p);
            }

            var (window, bytes) = readAhead!.PrepareFill(p.FileId, p.Offset, recordBytes, size);
            ReadAt(handle, p, window.Buffer.AsSpan(0, bytes));
            readAhead.Filled(window, p.FileId, p.Offset, bytes);
            return Verified(window.Buffer.AsSpan(0, recordBytes), p);
        }

        var record = new byte[recordBytes];
        ReadAt(handle, p, record);
        return Verified(record, p);
    }

    /// <summary>The open handle of <paramref name="p"/>'s file and its size when complete (0 while its writer has it).</summary>
    private (IReadableFile Handle, long Size) LiveHandle(BlobPointer p, string tablePath)
    {
        lock (_lock)
        {
            if (!_files.TryGetValue(p.FileId, out var e) || e.Refs == 0)
            {
                throw new StorageCorruptionException(tablePath, $"value file {FileName(p.FileId)} is not live");
            }

            return (e.Handle ??= _fs.OpenRead(PathOf(p.FileId)), e.Sealed ? e.Size : 0);
        }
    }

    private void ReadAt(IReadableFile handle, BlobPointer p, Span<byte> destination)
    {
        try
        {
            handle.ReadExactly(p.Offset, destination);
        }
        catch (EndOfStreamException)
        {
            throw RunsPastEnd(p);
        }
    }

    private StorageCorruptionException RunsPastEnd(BlobPointer p)
        => new(PathOf(p.FileId), $"value at offset {p.Offset} ({p.Length} bytes) runs past the end of the file");

    /// <summary>The value of <paramref name="record"/> (header + value) after its length and CRC check.</summary>
    private byte[] Verified(ReadOnlySpan<byte> record, BlobPointer p)
    {
        var value = record[BlobWriter.RecordHeaderSize..];
        if (BinaryPrimitives.ReadUInt32LittleEndian(record) != (uint)p.Length
            || BinaryPrimitives.ReadUInt32LittleEndian(record[4..]) != Crc32C.Compute(value))
        {
            throw new StorageCorruptionException(PathOf(p.FileId), $"value record at offset {p.Offset} fails its length or CRC check");
        }

        return value.ToArray();
    }

    /// <summary>The store is closing: nothing is deleted from now on (references dropped by the close are not the
    /// end of the files' lives); open handles are closed.</summary>
    public void Dispose()
    {
        lock (_lock)
        {
            _closing = true;
            foreach (var e in _files.Values)
            {
                e.Handle?.Dispose();
                e.Handle = null;
            }
        }
    }

    private void DecrementLocked(ulong id, Entry e)
    {
        if (--e.Refs == 0 && !_closing)
        {
            DeleteLocked(id, e);
        }
    }

    private void DeleteLocked(ulong id, Entry e)
    {
        e.Handle?.Dispose();
        _files.Remove(id);
        _fs.Delete(PathOf(id));
    }

    private sealed class Entry
    {
        public int Refs;
        public long Size;
        public long LiveBytes;
        public bool Sealed;
        public IReadableFile? Handle;
    }
}
