namespace RaftKv.Storage.Tables;

/// <remarks>
/// Metadata reads of an archived table: its keys file (<see cref="KeysFile"/>) is a local table with
/// the same keys, versions, expiries and tombstones and no large values, so existence, version and
/// expiry lookups and key scans never leave the node. The keys reader is attached before the data
/// source is switched to the object store (<see cref="AttachKeys"/>), so whoever sees a remote
/// source also sees the keys; it lives and dies with this reader.
/// </remarks>
public sealed partial class TableReader
{
    private TableReader? _keys;

    /// <summary>The keys file of an archived table (null for a local table).</summary>
    public TableReader? Keys => Volatile.Read(ref _keys);

    /// <summary>The reader that answers metadata without the object store: the keys file once
    /// archived, else this table.</summary>
    internal TableReader MetadataReader => Keys ?? this;

    /// <summary>Attaches the keys file (owned from now on: released with this reader). MUST happen
    /// before <see cref="SwitchSource"/> makes the table remote.</summary>
    public void AttachKeys(TableReader keys)
    {
        if (Interlocked.CompareExchange(ref _keys, keys, null) is not null)
        {
            throw new InvalidOperationException($"table {Id} already has a keys file");
        }
    }

    /// <summary>Point lookup (tombstones included) that never touches the object store: the data
    /// block when it is cached or local, else the keys file. <paramref name="value"/> is the value
    /// when it is on this node (null when only the object store has it); <paramref name="valueLength"/>
    /// is its length either way. Call <see cref="MayContain"/> first.</summary>
    internal bool TryFindLocal(ReadOnlySpan<byte> key, out BlockEntry entry, out ReadOnlyMemory<byte>? value, out int valueLength)
    {
        switch (TryGet(key, out entry))
        {
            case BlockLookup.Found:
                value = entry.Value;
                valueLength = entry.Value.Length;
                return true;
            case BlockLookup.Absent:
                value = null;
                valueLength = 0;
                return false;
        }

        var keys = Keys ?? throw new InvalidOperationException($"table {Id} is archived but has no keys file");
        if (keys.TryGet(key, out var k) != BlockLookup.Found)
        {
            // A keys file is local: NeedsIo cannot happen, Absent means the key is not in the table.
            value = null;
            valueLength = 0;
            return false;
        }

        value = KeysFile.DecodeValue(k.Value, _path, out valueLength);
        entry = new BlockEntry(ReadOnlyMemory<byte>.Empty, k.Version, k.ExpiresAtUnixMs, k.Tombstone);
        return true;
    }

    /// <summary>What an archived table's keys file says about <paramref name="key"/> without the object
    /// store, for a point read whose data block is not cached: <see cref="ArchivedProbe.Absent"/> (not in
    /// the table: a bloom false positive costs no request), <see cref="ArchivedProbe.Deleted"/> (a
    /// tombstone: it shadows older tables), else <see cref="ArchivedProbe.InObject"/> (read the block).
    /// A table without a keys file always answers InObject.</summary>
    internal ArchivedProbe ProbeArchived(ReadOnlySpan<byte> key)
    {
        if (Keys is not { } keys)
        {
            return ArchivedProbe.InObject;
        }

        return keys.TryGet(key, out var k) switch
        {
            BlockLookup.Absent => ArchivedProbe.Absent,
            BlockLookup.Found when k.Tombstone => ArchivedProbe.Deleted,
            _ => ArchivedProbe.InObject,
        };
    }

    /// <summary>Data block <paramref name="i"/> from the cache or the source, without filling the
    /// cache (one-pass readers: building a keys file). May read the object store.</summary>
    internal async ValueTask<DataBlock> ReadBlockUncachedAsync(int i, CancellationToken cancellationToken)
    {
        var h = _index[i];
        if (_cache.TryPeek(CacheId, h.Offset) is { } cached)
        {
            return cached;
        }

        var (raw, _) = await ReadPinnedAsync(h, cancellationToken).ConfigureAwait(false);
        return BlockCodec.DecodeDataBlock(raw, _path, h.Offset);
    }
}
