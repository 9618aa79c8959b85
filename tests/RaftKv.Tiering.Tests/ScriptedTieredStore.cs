using RaftKv.Storage;

namespace RaftKv.Tiering.Tests;

/// <summary>
/// An in-memory <see cref="ITieredStore"/>: one local table, archived (made remote, nothing uploaded) by
/// <see cref="ArchiveTableAsync"/>; local bytes stay at <see cref="LocalDiskBytes"/> (what archived tables keep
/// locally), so a limit below it keeps the archiver's loop over the limit with nothing left to archive.
/// <see cref="SignalTablesChange"/> completes <see cref="WhenTablesChange"/>, and <see cref="LoopIterations"/>
/// counts how often the archiver's loop took it (once per iteration of its loop: a new count means the previous
/// iteration, its pass included, has ended).
/// </summary>
internal sealed class ScriptedTieredStore : ITieredStore
{
    private readonly Lock _lock = new();
    private TableInfo _table = new(1, 1, 4096, 10, 1, 10, 0, null);
    private TaskCompletionSource _changed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _loopIterations;

    public IReadOnlyList<TableInfo> ListTables()
    {
        lock (_lock)
        {
            return [_table];
        }
    }

    public long LocalDiskBytes => 100;

    public int LoopIterations => Volatile.Read(ref _loopIterations);

    public Task WhenTablesChange
    {
        get
        {
            Interlocked.Increment(ref _loopIterations);
            lock (_lock)
            {
                return _changed.Task;
            }
        }
    }

    public void SignalTablesChange()
    {
        TaskCompletionSource changed;
        lock (_lock)
        {
            (changed, _changed) = (_changed, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously));
        }

        changed.TrySetResult();
    }

    public Task<bool> ArchiveTableAsync(long tableId, string objectName, CancellationToken cancellationToken = default)
    {
        lock (_lock)
        {
            if (_table.Id != tableId || _table.IsRemote)
            {
                return Task.FromResult(false);
            }

            _table = _table with { ObjectName = objectName };
            return Task.FromResult(true);
        }
    }
}
