namespace RaftKv.Replication.Backup;

/// <summary>A backup snapshot file that cannot be used; <see cref="Error"/> says why.</summary>
public sealed class SnapshotFileException : IOException
{
    public SnapshotFileException(SnapshotFileError error, string message)
        : base(message)
    {
        Error = error;
    }

    public SnapshotFileException()
    {
    }

    public SnapshotFileException(string message)
        : base(message)
    {
    }

    public SnapshotFileException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    public SnapshotFileError Error { get; } = SnapshotFileError.Corrupt;
}
