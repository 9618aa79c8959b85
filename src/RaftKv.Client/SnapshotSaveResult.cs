namespace RaftKv.Client;

/// <summary>A saved backup snapshot: its file, length and Raft index.</summary>
public sealed record SnapshotSaveResult(string Path, long Bytes, long RaftIndex);
