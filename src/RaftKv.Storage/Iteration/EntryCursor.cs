namespace RaftKv.Storage.Iteration;

/// <summary>
/// A forward cursor over entries with strictly increasing keys (tombstones included), the
/// allocation-free replacement for enumerating <see cref="InternalEntry"/> objects in scans and
/// compactions. Positioned before the first entry until <see cref="MoveNextAsync"/> returns true.
/// </summary>
/// <remarks>
/// <para>Concurrency: owned by one reader; not thread-safe.</para>
/// <para>Lifetimes: <see cref="Key"/> is only valid until the next <see cref="MoveNextAsync"/> (it may
/// be rebuilt in a reused buffer); <see cref="Value"/> is engine-owned immutable memory (a memtable
/// arena or a cached block payload) that stays valid for as long as it is referenced.
/// <see cref="MoveNextAsync"/> completes synchronously unless a block must come from object storage;
/// <see cref="TryMoveNext"/> lets merges and compactions run without an async call per entry.</para>
/// </remarks>
internal abstract class EntryCursor
{
    public abstract ReadOnlySpan<byte> Key { get; }

    public abstract ReadOnlyMemory<byte> Value { get; }

    /// <summary>The entry's value as stored: an encoded <see cref="Blobs.BlobPointer"/> when <see cref="IsBlobRef"/>
    /// (compactions copy pointers, not values), else the same as <see cref="Value"/>.</summary>
    public virtual ReadOnlyMemory<byte> RawValue => Value;

    /// <summary>Whether the current entry's value lives in a value file (<see cref="Value"/> reads it from there).</summary>
    public virtual bool IsBlobRef => false;

    /// <summary>The value read from its value file through the current entry's table (only when <see cref="IsBlobRef"/>).</summary>
    public virtual byte[] ResolveBlob() => throw new InvalidOperationException("the entry's value is not in a value file");

    /// <summary>The Raft index that wrote the current entry.</summary>
    public abstract long Version { get; }

    public abstract long ExpiresAtUnixMs { get; }

    public abstract bool Tombstone { get; }

    /// <summary>Where the current entry lives.</summary>
    public abstract Tier Tier { get; }

    public abstract ValueTask<bool> MoveNextAsync(CancellationToken cancellationToken);

    /// <summary>The synchronous fast path of <see cref="MoveNextAsync"/>: returns true and sets
    /// <paramref name="moved"/> (what <see cref="MoveNextAsync"/> would have returned) when the
    /// move needs no awaited I/O; returns false, having moved nothing observable, when it does
    /// (the caller then calls <see cref="MoveNextAsync"/>, which continues from there).</summary>
    public abstract bool TryMoveNext(out bool moved);
}
