namespace RaftKv.Bench.Load;

/// <summary>One client connection to the system under test (one request in flight).</summary>
public interface IKvDriver : IDisposable
{
    Task PutAsync(byte[] key, byte[] value);

    /// <summary>Writes every key with its value in one transaction (one request, one Raft entry).</summary>
    Task PutBatchAsync(IReadOnlyList<byte[]> keys, IReadOnlyList<ReadOnlyMemory<byte>> values);

    /// <summary>Reads one key; says where it was served from when the target reports it.</summary>
    Task<ReadTier> GetAsync(byte[] key, bool serializable);

    /// <summary>Reads up to <paramref name="limit"/> keys starting at <paramref name="start"/>.</summary>
    Task RangeAsync(byte[] start, int limit);
}
