namespace RaftKv.Chaos.Checker;

/// <summary>One event a watcher received: the revision of the change, the key, put or delete, the value put.</summary>
public readonly record struct WatchedEvent(long Revision, string Key, bool Delete, string Value)
{
    public override string ToString() => Delete ? $"r{Revision} delete {Key}" : $"r{Revision} put {Key}={Value}";
}
