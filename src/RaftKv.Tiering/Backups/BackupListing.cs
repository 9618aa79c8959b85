namespace RaftKv.Tiering.Backups;

/// <summary>The complete backups (newest first) and the manifests that could not be read.</summary>
public sealed record BackupListing(IReadOnlyList<BackupManifest> Backups, IReadOnlyList<(string Key, BackupException Error)> Unreadable);
