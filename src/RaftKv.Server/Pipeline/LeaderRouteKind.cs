namespace RaftKv.Server.Pipeline;

public enum LeaderRouteKind
{
    /// <summary>This node is the leader: handle the write here.</summary>
    Local,

    /// <summary>Proxy the write to the leader (one hop).</summary>
    Forward,

    /// <summary>The call was already forwarded once and this node is not the leader (any more): refuse
    /// rather than forward again (loop guard; leadership moved during the hop).</summary>
    AlreadyForwarded,

    /// <summary>No leader is known, or it has no address for this front door.</summary>
    NoLeader,
}
