using RaftKv.Storage;

namespace RaftKv.Tiering.Tests;

/// <summary>
/// A store whose every table is compacted away while it is being archived: each
/// <see cref="ArchiveTableAsync"/> returns false and leaves a new local table (the compaction's output) in its
/// place, so local bytes never drop under any limit. After <paramref name="attemptsAllowed"/> attempts it throws
/// (a pass that would never end fails instead of hanging).
/// </summary>
internal sealed class ChurningTieredStore(int attemptsAllowed) : ITieredStore
{
    private readonly Lock _lock = new();
    private TableInfo _table = new(1, 0, 4096, 10, 1, 10, 0, null);

    public int Attempts { get; private set; }

    public IReadOnlyList<TableInfo> ListTables()
    {
        lock (_lock)
        {
            return [_table];
        }
    }

    public long LocalDiskBytes => 4096;

    public Task WhenTablesChange => new TaskCompletionSource().Task; // the archiver's loop is not started

    public Task<bool> ArchiveTableAsync(long tableId, string objectName, CancellationToken cancellationToken = default)
    {
        lock (_lock)
        {
            if (++Attempts > attemptsAllowed)
            {
                throw new InvalidOperationException($"{Attempts} archive attempts in one pass: it does not end");
            }

            _table = _table with { Id = _table.Id + 1 }; // compacted away during the upload: a new local table
            return Task.FromResult(false);
        }
    }
}
