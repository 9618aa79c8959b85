namespace RaftKv.Storage.Blobs;

/// <summary>A table's reference to a value file: the file and how many value bytes the table's entries point at in
/// it (stored in the table's meta block, Tables/FORMAT.md).</summary>
/// <param name="FileId">The value file's id.</param>
/// <param name="Bytes">Sum of the lengths of the values the table points at in the file.</param>
public readonly record struct BlobRef(ulong FileId, long Bytes);
