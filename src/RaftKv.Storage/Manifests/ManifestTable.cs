namespace RaftKv.Storage.Manifests;

/// <summary>A live table as recorded in the manifest.</summary>
public sealed record ManifestTable(
    long Id,
    int Level,
    long Size,
    long EntryCount,
    long MinIndex,
    long MaxIndex,
    long CreatedUnixMs,
    byte[] MinKey,
    byte[] MaxKey,
    long TailOffset,
    string? ObjectName)
{
    public TableInfo ToInfo() => new(Id, Level, Size, EntryCount, MinIndex, MaxIndex, CreatedUnixMs, ObjectName);
}
