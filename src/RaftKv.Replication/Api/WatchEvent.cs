using RaftKv.Storage;

namespace RaftKv.Replication.Api;

/// <summary>A change delivered by a watch. For deletes, Entry.Value is empty and Entry.Version is the delete's index.</summary>
public sealed record WatchEvent(bool IsDelete, KvEntry Entry);
