namespace RaftKv.Replication.Api;

/// <summary>How a read is ordered against writes.</summary>
public enum ReadConsistency
{
    /// <summary>Read-index barrier (<c>ApplyReadBarrierAsync</c>), then local state. Default.</summary>
    Linearizable = 0,

    /// <summary>Local state as it is; may be stale.</summary>
    Serializable = 1,
}
