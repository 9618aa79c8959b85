using RaftKv.Storage.Memtables;
using RaftKv.Storage.Tables;

namespace RaftKv.Storage;

/// <summary>A consistent point-in-time view: memtables (newest first), the table set and the
/// snapshot index. Holds a reference on every table until disposed.</summary>
internal sealed class ReadView : IDisposable
{
    private int _disposed;

    public ReadView(IReadOnlyList<Memtable> memtables, TableSet tables, long snapshotIndex)
    {
        Memtables = memtables;
        Tables = tables;
        SnapshotIndex = snapshotIndex;
    }

    public IReadOnlyList<Memtable> Memtables { get; }

    public TableSet Tables { get; }

    public long SnapshotIndex { get; }

    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 0)
        {
            foreach (TableReader t in Tables.All)
            {
                t.Unref();
            }
        }
    }
}
