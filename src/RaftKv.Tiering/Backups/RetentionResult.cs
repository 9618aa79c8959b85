namespace RaftKv.Tiering.Backups;

/// <summary>What one retention pass did.</summary>
/// <param name="Retained">The backups kept, newest first.</param>
/// <param name="BackupsDeleted">Backups past the retention whose manifests were deleted.</param>
/// <param name="TablesDeleted">Table objects no kept or pending backup referenced.</param>
/// <param name="BytesDeleted">Their size.</param>
/// <param name="CheckpointsDeleted">Checkpoint objects of deleted or abandoned backups.</param>
/// <param name="TablesSkipped">True when an unreadable manifest or pending marker made the pass keep every table.</param>
public sealed record RetentionResult(IReadOnlyList<BackupManifest> Retained, int BackupsDeleted, int TablesDeleted, long BytesDeleted, int CheckpointsDeleted, bool TablesSkipped);
