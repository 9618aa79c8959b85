namespace RaftKv.Storage;

/// <summary>Thrown when a read needs an archived table and the object store cannot be reached.
/// The server maps it to 503.</summary>
public sealed class RemoteTierUnavailableException : IOException
{
    public RemoteTierUnavailableException(string message, Exception? inner = null)
        : base(message, inner)
    {
    }
}
