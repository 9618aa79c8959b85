namespace RaftKv.Tiering;

/// <summary>What one archiver pass did.</summary>
public sealed record MigrationResult(int TablesMigrated, long BytesUploaded);
