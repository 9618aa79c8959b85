namespace RaftKv.Storage.Tables;

/// <summary>Where a data block lives in its table file (length includes the 5-byte trailer).</summary>
public readonly record struct BlockHandle(byte[] LastKey, long Offset, int Length);
