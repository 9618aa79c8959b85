namespace RaftKv.Tiering.Backups;

/// <summary>One file of a backup's checkpoint: its name in the checkpoint directory (<c>CHECKPOINT</c>,
/// <c>NNNNNN.sst</c>), the object that holds it, its length and the CRC32C of its content.</summary>
public sealed record BackupFile(string Name, string Key, long Size, uint Crc32C);
