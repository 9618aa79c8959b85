namespace RaftKv.Storage;

/// <summary>
/// The archiving seam the Tiering archiver drives (policy lives in Tiering, mechanics here).
/// </summary>
public interface ITieredStore
{
    /// <summary>The live tables (a consistent snapshot of the published table set; never waits on a running
    /// flush, compaction or archive). A table being archived lists as local until it serves from its object.</summary>
    IReadOnlyList<TableInfo> ListTables();

    /// <summary>Local disk bytes of the live tables: local tables whole, archived ones by what stays
    /// local (tail and keys file). What DISK_MAX_SIZE_GB limits.</summary>
    long LocalDiskBytes { get; }

    /// <summary>Completes at the next change of the live tables or of their local bytes (a flush, compaction,
    /// trivial move, archive or ingest): the archiver waits on it to follow disk pressure as it builds up
    /// instead of polling. Take it before reading <see cref="LocalDiskBytes"/> so that no change is missed.</summary>
    Task WhenTablesChange { get; }

    /// <summary>
    /// Archives one local table: uploads it through the configured <see cref="IRemoteTableStore"/>
    /// as <paramref name="objectName"/> (verified), keeps its tail (index, bloom, meta) and its keys
    /// file (keys, versions, expiries, small values; <c>Tables.KeysFile</c>) locally and durably,
    /// then makes a manifest edit marking it remote durable, then deletes the local data file, so
    /// metadata lookups and key scans of archived data never need the object store. A crash at
    /// any step leaves either the local table live (an orphan object may remain and is deleted on
    /// the next attempt) or the remote one. Returns false if the table is no longer live, already
    /// remote or being archived, or stopped being live during the upload. Flushes and compactions
    /// do not wait for the upload (only the manifest edit is serialized with them).
    /// </summary>
    Task<bool> ArchiveTableAsync(long tableId, string objectName, CancellationToken cancellationToken = default);
}
