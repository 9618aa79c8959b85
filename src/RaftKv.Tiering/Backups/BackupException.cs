namespace RaftKv.Tiering.Backups;

/// <summary>A backup that cannot be used or taken; <see cref="Error"/> says why (never match the message).</summary>
public sealed class BackupException : IOException
{
    public BackupException(BackupError error, string message)
        : base(message)
    {
        Error = error;
    }

    public BackupException()
    {
    }

    public BackupException(string message)
        : base(message)
    {
    }

    public BackupException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    public BackupError Error { get; } = BackupError.ManifestCorrupt;
}
