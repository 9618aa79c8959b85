using RaftKv.Storage.Memtables;

namespace RaftKv.Storage;

/// <summary>
/// An immutable snapshot of what a read must look at: the mutable memtable, the frozen memtables
/// and the table set. The store publishes a new one (with <see cref="Volatile.Write{T}(ref T, T)"/>)
/// whenever any of them changes, so readers pick the current state up without a lock.
/// </summary>
/// <remarks>
/// <para>Lifetime: a state holds one reference on each of its tables, taken when it is created and
/// dropped when the state's own reference count reaches zero. The store holds one reference on the
/// current state and drops it when it publishes the next one; a reader pins a state with
/// <see cref="TryRef"/> (which fails once the count has reached zero: the reader then re-reads the
/// current state) and releases it with <see cref="Unref"/>. So a read costs one
/// increment/decrement pair however many tables there are, and a table's file outlives every
/// state (and so every read) that can still reach it.</para>
/// <para>Memtables need no reference: they are plain GC objects.</para>
/// </remarks>
internal sealed class StoreState
{
    private int _refs = 1;

    /// <summary>Creates a state and references every table in <paramref name="tables"/> (they must be live).</summary>
    public StoreState(Memtable mutable, IReadOnlyList<Memtable> immutablesOldestFirst, TableSet tables)
    {
        var memtables = new Memtable[immutablesOldestFirst.Count + 1];
        memtables[0] = mutable;
        for (var i = 0; i < immutablesOldestFirst.Count; i++)
        {
            memtables[i + 1] = immutablesOldestFirst[immutablesOldestFirst.Count - 1 - i];
        }

        Memtables = memtables;
        Tables = tables;
        foreach (var t in tables.All)
        {
            t.Ref();
        }
    }

    /// <summary>The mutable memtable first, then the frozen ones newest first.</summary>
    public Memtable[] Memtables { get; }

    public TableSet Tables { get; }

    public bool TryRef() => RefCount.TryIncrement(ref _refs);

    public void Unref()
    {
        if (Interlocked.Decrement(ref _refs) == 0)
        {
            foreach (var t in Tables.All)
            {
                t.Unref();
            }
        }
    }
}
