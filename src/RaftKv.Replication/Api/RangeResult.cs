namespace RaftKv.Replication.Api;

/// <summary>The answer of a <see cref="RangeRequest"/>.</summary>
/// <param name="Kvs">The keys (empty for count_only), after filters, sort and limit.</param>
/// <param name="More">Whether more keys matched than <see cref="Kvs"/> holds (limit).</param>
/// <param name="Count">The number of keys in the range at the revision (before limit; etcd counts before the min/max filters).</param>
/// <param name="Revision">The store revision the read observed (the header revision).</param>
public sealed record RangeResult(IReadOnlyList<KeyValue> Kvs, bool More, long Count, long Revision);
