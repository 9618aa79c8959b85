namespace RaftKv.Replication.Backup;

/// <summary>A restore that cannot proceed for a reason other than the snapshot file itself (a target
/// directory in use, archived tables that cannot be fetched).</summary>
public sealed class RestoreTargetException : IOException
{
    public RestoreTargetException()
    {
    }

    public RestoreTargetException(string message)
        : base(message)
    {
    }

    public RestoreTargetException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
