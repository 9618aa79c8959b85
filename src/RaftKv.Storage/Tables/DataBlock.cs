using System.Buffers.Binary;

namespace RaftKv.Storage.Tables;

/// <summary>A decoded (verified) data block payload; immutable and shareable through the block cache.</summary>
public sealed class DataBlock
{
    private readonly byte[] _data;
    private readonly int _restartsOffset;
    private readonly int _restartCount;

    public DataBlock(byte[] payload, string path)
    {
        _data = payload;
        if (payload.Length < 4)
        {
            throw new StorageCorruptionException(path, "data block too short");
        }

        _restartCount = (int)BinaryPrimitives.ReadUInt32LittleEndian(payload.AsSpan(payload.Length - 4));
        _restartsOffset = payload.Length - 4 - (_restartCount * 4);
        if (_restartCount <= 0 || _restartsOffset < 0)
        {
            throw new StorageCorruptionException(path, "bad restart array in data block");
        }
    }

    public int SizeInBytes => _data.Length;

    /// <summary>The entry with exactly <paramref name="key"/>, or null.</summary>
    public InternalEntry? Find(ReadOnlySpan<byte> key)
    {
        // Binary search for the last restart whose key ≤ key.
        int lo = 0, hi = _restartCount - 1;
        while (lo < hi)
        {
            var mid = (lo + hi + 1) / 2;
            var pos = Restart(mid);
            var k = ReadRestartKey(pos);
            if (KeyComparer.Compare(k, key) <= 0)
            {
                lo = mid;
            }
            else
            {
                hi = mid - 1;
            }
        }

        // Scan from the restart point rebuilding keys in one scratch buffer; allocate only the match.
        var at = Restart(lo);
        var scratch = System.Buffers.ArrayPool<byte>.Shared.Rent(Math.Max(256, key.Length * 2));
        try
        {
            var lastLength = 0;
            while (at < _restartsOffset)
            {
                var shared = (int)Varint.Read(_data, ref at);
                var unshared = (int)Varint.Read(_data, ref at);
                var valueLength = (int)Varint.Read(_data, ref at);
                var version = (long)Varint.Read(_data, ref at);
                var expires = (long)Varint.Read(_data, ref at);
                var flags = _data[at++];
                var length = shared + unshared;
                if (length > scratch.Length)
                {
                    var bigger = System.Buffers.ArrayPool<byte>.Shared.Rent(length * 2);
                    scratch.AsSpan(0, lastLength).CopyTo(bigger);
                    System.Buffers.ArrayPool<byte>.Shared.Return(scratch);
                    scratch = bigger;
                }

                _data.AsSpan(at, unshared).CopyTo(scratch.AsSpan(shared));
                at += unshared;
                lastLength = length;
                var c = KeyComparer.Compare(scratch.AsSpan(0, length), key);
                if (c == 0)
                {
                    return new InternalEntry(scratch.AsSpan(0, length).ToArray(), _data.AsSpan(at, valueLength).ToArray(), version, expires, (flags & 1) != 0);
                }

                if (c > 0)
                {
                    return null;
                }

                at += valueLength;
            }

            return null;
        }
        finally
        {
            System.Buffers.ArrayPool<byte>.Shared.Return(scratch);
        }
    }

    /// <summary>All entries with key ≥ <paramref name="start"/>, in order.</summary>
    public IEnumerable<InternalEntry> Seek(byte[] start)
    {
        int lo = 0, hi = _restartCount - 1;
        while (lo < hi)
        {
            var mid = (lo + hi + 1) / 2;
            if (KeyComparer.Compare(ReadRestartKey(Restart(mid)), start) <= 0)
            {
                lo = mid;
            }
            else
            {
                hi = mid - 1;
            }
        }

        foreach (var e in EntriesFrom(Restart(lo)))
        {
            if (KeyComparer.Compare(e.Key, start) >= 0)
            {
                yield return e;
            }
        }
    }

    public IEnumerable<InternalEntry> All() => EntriesFrom(0);

    private int Restart(int i) => (int)BinaryPrimitives.ReadUInt32LittleEndian(_data.AsSpan(_restartsOffset + (i * 4)));

    private ReadOnlySpan<byte> ReadRestartKey(int pos)
    {
        var p = pos;
        Varint.Read(_data, ref p); // shared = 0 at restarts
        var unshared = (int)Varint.Read(_data, ref p);
        Varint.Read(_data, ref p);
        Varint.Read(_data, ref p);
        Varint.Read(_data, ref p);
        p++;
        return _data.AsSpan(p, unshared);
    }

    private IEnumerable<InternalEntry> EntriesFrom(int pos)
    {
        byte[] last = [];
        while (pos < _restartsOffset)
        {
            var shared = (int)Varint.Read(_data, ref pos);
            var unshared = (int)Varint.Read(_data, ref pos);
            var valueLength = (int)Varint.Read(_data, ref pos);
            var version = (long)Varint.Read(_data, ref pos);
            var expires = (long)Varint.Read(_data, ref pos);
            var flags = _data[pos++];
            var key = new byte[shared + unshared];
            last.AsSpan(0, shared).CopyTo(key);
            _data.AsSpan(pos, unshared).CopyTo(key.AsSpan(shared));
            pos += unshared;
            var value = _data.AsSpan(pos, valueLength).ToArray();
            pos += valueLength;
            last = key;
            yield return new InternalEntry(key, value, version, expires, (flags & 1) != 0);
        }
    }
}
