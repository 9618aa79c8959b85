namespace RaftKv.Server.Configuration;

/// <summary>AUTO_COMPACTION_MODE (see <see cref="AutoCompaction"/>).</summary>
public enum AutoCompactionMode
{
    Off = 0,
    Periodic = 1,
    Revision = 2,
}
