namespace RaftKv.Tiering.Backups;

/// <summary>What one retention pass did.</summary>
/// <param name="Retained">This cluster's backups kept, newest first.</param>
/// <param name="BackupsDeleted">This cluster's backups past the retention whose manifests were deleted.</param>
/// <param name="TablesDeleted">Table objects no remaining (of any cluster) or pending backup referenced.</param>
/// <param name="BytesDeleted">Their size.</param>
/// <param name="CheckpointsDeleted">Checkpoint objects of deleted or abandoned backups.</param>
/// <param name="TablesSkipped">True when an unreadable manifest or pending marker made the pass keep every table.</param>
public sealed record RetentionResult(IReadOnlyList<BackupManifest> Retained, int BackupsDeleted, int TablesDeleted, long BytesDeleted, int CheckpointsDeleted, bool TablesSkipped)
{
    /// <summary>Backups of other clusters under the prefix (left alone; their tables kept).</summary>
    public int OtherClusters { get; init; }

    /// <summary>Legacy backups (manifest format version 1, no cluster uid) under the prefix: never deleted by retention.</summary>
    public int Legacy { get; init; }
}
