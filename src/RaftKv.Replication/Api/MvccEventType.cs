namespace RaftKv.Replication.Api;

/// <summary>The kind of an <see cref="MvccEvent"/>.</summary>
public enum MvccEventType : byte
{
    Put = 0,
    Delete = 1,
}
