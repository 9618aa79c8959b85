using RaftKv.Replication.Api;
using RaftKv.Storage;

namespace RaftKv.Replication.State;

/// <summary>etcd's Range post-processing over the keys of a range at one revision (in key order):
/// count, min/max mod/create filters, sort (with etcd's defaulting rule), limit/more, keys_only, count_only.</summary>
internal static class RangeProcessor
{
    /// <summary>How many keys to read for a limit (one more than the limit, to set "more"); 0 reads all. A limit
    /// near <see cref="long.MaxValue"/> must not wrap to a negative count (etcd treats it as no limit).</summary>
    public static int FetchLimit(long limit) => limit <= 0 ? 0 : limit >= int.MaxValue ? int.MaxValue : (int)limit + 1;

    /// <param name="kvs">The keys in key order (possibly only the first limit + 1 when nothing filters or sorts).</param>
    /// <param name="r">The request.</param>
    /// <param name="revision">The revision read.</param>
    /// <param name="total">The number of keys in the range when <paramref name="kvs"/> is cut short.</param>
    public static RangeResult Apply(List<KeyValue> kvs, RangeRequest r, long revision, long? total = null)
    {
        var count = total ?? kvs.Count; // etcd counts before the min/max filters
        IEnumerable<KeyValue> q = kvs;
        if (r.MinModRevision > 0)
        {
            q = q.Where(kv => kv.ModRevision >= r.MinModRevision);
        }

        if (r.MaxModRevision > 0)
        {
            q = q.Where(kv => kv.ModRevision <= r.MaxModRevision);
        }

        if (r.MinCreateRevision > 0)
        {
            q = q.Where(kv => kv.CreateRevision >= r.MinCreateRevision);
        }

        if (r.MaxCreateRevision > 0)
        {
            q = q.Where(kv => kv.CreateRevision <= r.MaxCreateRevision);
        }

        var filtered = r.MinModRevision > 0 || r.MaxModRevision > 0 || r.MinCreateRevision > 0 || r.MaxCreateRevision > 0;
        if (r.SortOrder == SortOrder.None && !filtered && r.Limit > 0)
        {
            // etcd (v3 apply Range) reads limit + 1 keys in key order when the request names no sort order and no
            // filter, and only then sorts them by a non-key target: the sort applies to those keys, not the range.
            q = q.Take(FetchLimit(r.Limit));
        }

        var order = r.SortOrder == SortOrder.None && r.SortTarget != SortTarget.Key ? SortOrder.Ascend : r.SortOrder;
        if (order != SortOrder.None && !(order == SortOrder.Ascend && r.SortTarget == SortTarget.Key))
        {
            // Stable both ways: ties keep key order, as etcd's sort (insertion sort for small results) leaves them.
            var descend = order == SortOrder.Descend;
            q = r.SortTarget switch
            {
                SortTarget.Version => descend ? q.OrderByDescending(kv => kv.Version) : q.OrderBy(kv => kv.Version),
                SortTarget.Create => descend ? q.OrderByDescending(kv => kv.CreateRevision) : q.OrderBy(kv => kv.CreateRevision),
                SortTarget.Mod => descend ? q.OrderByDescending(kv => kv.ModRevision) : q.OrderBy(kv => kv.ModRevision),
                SortTarget.Value => descend ? q.OrderByDescending(kv => kv.Value.ToArray(), KeyComparer.Instance) : q.OrderBy(kv => kv.Value.ToArray(), KeyComparer.Instance),
                _ => descend ? q.OrderByDescending(kv => kv.Key.ToArray(), KeyComparer.Instance) : q.OrderBy(kv => kv.Key.ToArray(), KeyComparer.Instance),
            };
        }

        var list = q.ToList();
        var more = false;
        if (r.Limit > 0 && list.Count > r.Limit)
        {
            list.RemoveRange((int)r.Limit, list.Count - (int)r.Limit);
            more = true;
        }

        if (r.CountOnly)
        {
            return new RangeResult([], false, count, revision); // etcd fetches no kvs for count_only, so "more" is never set
        }

        if (r.KeysOnly)
        {
            for (var i = 0; i < list.Count; i++)
            {
                list[i] = list[i] with { Value = ReadOnlyMemory<byte>.Empty };
            }
        }

        return new RangeResult(list, more, count, revision);
    }
}
