namespace RaftKv.Replication.Api;

/// <summary>One change of one key at one revision, as a revision watch delivers it.
/// The <see cref="Kv"/> of a delete has the Key, ModRevision = the delete's revision and other fields 0.
/// <see cref="PrevKv"/> is the key's previous version, only when asked (null when it did not exist).</summary>
public sealed record MvccEvent(MvccEventType Type, KeyValue Kv, KeyValue? PrevKv);
