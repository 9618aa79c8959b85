namespace RaftKv.Replication;

/// <summary>The Raft log implementation a node runs on. A data directory keeps the engine it was created with.</summary>
public enum RaftLogEngine
{
    /// <summary>RaftKv's own log (<c>{DataDir}/log/</c>): append-only segments, one write + fsync per group of entries.</summary>
    RaftKv,

    /// <summary>DotNext's memory-mapped <c>WriteAheadLog</c> (<c>{DataDir}/raft/</c>), kept for comparison.</summary>
    DotNext,
}
