namespace RaftKv.Storage;

/// <summary>Which tier answered a lookup (docs/architecture.md, GET path: memory → L1/L2 disk → L3 object).</summary>
public enum Tier
{
    /// <summary>Not found anywhere.</summary>
    None = 0,

    /// <summary>The mutable or an immutable memtable.</summary>
    Memory = 1,

    /// <summary>A local SSTable (or its cached blocks).</summary>
    Disk = 2,

    /// <summary>An SSTable archived in object storage.</summary>
    Object = 3,
}
