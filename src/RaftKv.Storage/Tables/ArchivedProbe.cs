namespace RaftKv.Storage.Tables;

/// <summary>Answer of <see cref="TableReader.ProbeArchived"/>: what an archived table's local keys
/// file says about a key.</summary>
internal enum ArchivedProbe
{
    /// <summary>The key is not in the table.</summary>
    Absent,

    /// <summary>The table holds a tombstone for the key.</summary>
    Deleted,

    /// <summary>The table holds a value for the key, in the object (or there is no keys file).</summary>
    InObject,
}
