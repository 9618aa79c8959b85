namespace RaftKv.Tiering.Backups;

/// <summary>
/// Progress of one backup (<see cref="BackupWriter"/>, through <see cref="BackupScheduler.Progress"/>): the files
/// it must store are the checkpoint's tables the bucket lacks plus the checkpoint manifest; tables an earlier
/// backup stored are reused, not uploaded (<see cref="TablesReused"/>). <see cref="FilesTotal"/> is 0 until the
/// bucket has been listed.
/// </summary>
/// <param name="Running">False once the backup returned (done, failed or cancelled).</param>
/// <param name="FilesDone">Files uploaded (or copied server-side from the archive bucket) so far.</param>
/// <param name="FilesTotal">Files to upload or copy.</param>
/// <param name="TablesReused">Tables of the checkpoint already in the bucket.</param>
/// <param name="BytesDone">Bytes of the files stored so far.</param>
/// <param name="BytesTotal">Bytes of the files to store.</param>
/// <param name="Started">When the backup started (default while only the writer reports).</param>
/// <param name="Finished">When it returned, or null while it runs.</param>
/// <param name="BackupId">The new backup's id (once known).</param>
/// <param name="Error">Why it failed, or null.</param>
public sealed record BackupProgress(bool Running, int FilesDone, int FilesTotal, int TablesReused, long BytesDone, long BytesTotal, DateTimeOffset Started, DateTimeOffset? Finished, string? BackupId, string? Error);
