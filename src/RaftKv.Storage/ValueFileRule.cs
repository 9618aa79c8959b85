namespace RaftKv.Storage;

/// <summary>
/// A key space whose values go to value files from a smaller size than <see cref="LsmOptions.BlobMinBytes"/>
/// (key-value separation): a flushed value under a key starting with <paramref name="Prefix"/> is written to the
/// flush's value file once it has at least <paramref name="MinBytes"/> bytes. For a key space written once and read
/// rarely (MVCC history) the pointer is what compactions then move through the levels, not the value. The owner
/// decides; the engine only compares prefixes. Node-local: the physical layout, never what a read returns.
/// </summary>
public sealed record ValueFileRule(byte[] Prefix, int MinBytes);
