using RaftKv.Protocol.Etcd;
using EtcdEvent = RaftKv.Protocol.Etcd.Mvccpb.Event;

namespace RaftKv.EndToEnd.Tests.Etcd;

/// <summary>etcd's MVCC semantics for a handful of keys, as a watcher should see them: every revision's events
/// (ascending key within a revision), with create/mod revisions, versions and the previous version. Events are
/// compared as text (<see cref="Describe(EtcdEvent, bool)"/>) so a mismatch prints readably.</summary>
internal sealed class WatchModel
{
    private readonly Dictionary<string, Kv> _state = new(StringComparer.Ordinal);
    private readonly List<(long Revision, List<(bool Put, Kv Kv, Kv? Prev)> Events)> _history = [];

    private sealed record Kv(string Key, string Value, long Create, long Mod, long Version);

    public long LastRevision => _history.Count == 0 ? 0 : _history[^1].Revision;

    public IReadOnlyList<long> Revisions => [.. _history.Select(h => h.Revision)];

    public bool Exists(string key) => _state.ContainsKey(key);

    public long Version(string key) => _state.TryGetValue(key, out var kv) ? kv.Version : 0;

    /// <summary>Applies one revision: each change is a put (value) or a delete (null) of a distinct key. Each key's
    /// revisions must come in order; different keys' may not.</summary>
    public void Apply(long revision, IEnumerable<(string Key, string? Value)> changes)
    {
        var events = new List<(bool, Kv, Kv?)>();
        foreach (var (key, value) in changes.OrderBy(c => c.Key, StringComparer.Ordinal))
        {
            _state.TryGetValue(key, out var prev);
            if (value is null)
            {
                if (prev is not null)
                {
                    events.Add((false, new Kv(key, string.Empty, 0, revision, 0), prev));
                    _state.Remove(key);
                }

                continue;
            }

            var kv = new Kv(key, value, prev?.Create ?? revision, revision, (prev?.Version ?? 0) + 1);
            events.Add((true, kv, prev));
            _state[key] = kv;
        }

        if (events.Count > 0)
        {
            // Writes to different keys may be settled out of revision order (a background writer): keep the history sorted.
            var at = _history.FindLastIndex(h => h.Revision < revision) + 1;
            _history.Insert(at, (revision, events));
        }
    }

    /// <summary>What a watcher of [key, end) (end null = the key alone) from <paramref name="start"/> must receive.</summary>
    public List<string> Expected(string key, string? end, long start, bool noPut, bool noDelete, bool prevKv)
    {
        var result = new List<string>();
        foreach (var (revision, events) in _history)
        {
            if (revision < start)
            {
                continue;
            }

            foreach (var (put, kv, prev) in events)
            {
                var inRange = end is null ? kv.Key == key : string.CompareOrdinal(kv.Key, key) >= 0 && string.CompareOrdinal(kv.Key, end) < 0;
                if (inRange && (put ? !noPut : !noDelete))
                {
                    result.Add(Describe(put, kv.Key, kv.Value, kv.Create, kv.Mod, kv.Version, prevKv, prev is null ? null : (prev.Key, prev.Value, prev.Mod)));
                }
            }
        }

        return result;
    }

    public static string Describe(EtcdEvent e, bool prevKv)
        => Describe(e.Type == EtcdEvent.Types.EventType.Put, e.Kv.Key.ToStringUtf8(), e.Kv.Value.ToStringUtf8(), e.Kv.CreateRevision, e.Kv.ModRevision, e.Kv.Version,
            prevKv, e.PrevKv is null ? null : (e.PrevKv.Key.ToStringUtf8(), e.PrevKv.Value.ToStringUtf8(), e.PrevKv.ModRevision));

    /// <summary>The events a watcher received, in order (fragments joined).</summary>
    public static List<string> Received(IEnumerable<WatchResponse> responses, bool prevKv)
        => [.. responses.SelectMany(r => r.Events).Select(e => Describe(e, prevKv))];

    private static string Describe(bool put, string key, string value, long create, long mod, long version, bool prevKv, (string Key, string Value, long Mod)? prev)
    {
        var text = $"{(put ? "PUT" : "DEL")} {key}={value} c{create} m{mod} v{version}";
        return !prevKv ? text : text + (prev is { } p ? $" prev {p.Key}={p.Value} m{p.Mod}" : " prev-");
    }
}
