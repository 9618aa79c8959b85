namespace RaftKv.Bench.Load;

/// <summary>One client connection to the system under test (one request in flight).</summary>
public interface IKvDriver : IDisposable
{
    Task PutAsync(byte[] key, byte[] value);

    Task GetAsync(byte[] key, bool serializable);

    /// <summary>Reads up to <paramref name="limit"/> keys starting at <paramref name="start"/>.</summary>
    Task RangeAsync(byte[] start, int limit);
}
