namespace RaftKv.Replication.Commands;

/// <summary>A log entry was written in a command format this node does not understand.</summary>
public sealed class UnsupportedCommandVersionException(string message) : FormatException(message);
