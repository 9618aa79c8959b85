namespace RaftKv.Storage.Tables;

/// <summary>Outcome of a synchronous point lookup in a table (<see cref="TableReader.TryGet"/>).</summary>
public enum BlockLookup
{
    /// <summary>The table has no entry for the key.</summary>
    Absent,

    /// <summary>The entry was found.</summary>
    Found,

    /// <summary>The block is neither cached nor local: use the asynchronous lookup.</summary>
    NeedsIo,
}
