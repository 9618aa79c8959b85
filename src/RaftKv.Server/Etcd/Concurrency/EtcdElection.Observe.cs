using System.Runtime.CompilerServices;
using RaftKv.Replication.Api;

namespace RaftKv.Server.Etcd.Concurrency;

public sealed partial class EtcdElection
{
    /// <summary>
    /// concurrency.Election.observe: the current leader's key-value (or, with no candidate, the first PUT on the
    /// election's prefix), then every PUT of that key until it is deleted, then the next leader the same way,
    /// until the caller cancels. Each item carries the header revision etcd answers with (the read's, or the
    /// event's revision). Ends (without an error) when a read or a watch fails, as etcd's observe closes its channel.
    /// </summary>
    public async IAsyncEnumerable<(long Revision, KeyValue Kv)> ObserveAsync(byte[] name, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var prefix = ConcurrencyKv.PrefixOf(name);
        while (!cancellationToken.IsCancellationRequested)
        {
            var leader = await Quietly(NextLeaderAsync(prefix, cancellationToken)).ConfigureAwait(false);
            if (leader is not { } current)
            {
                yield break;
            }

            yield return current;
            var updates = kv.Node.WatchRevisionsAsync(current.Kv.Key.ToArray(), null, current.Revision + 1, prevKv: false, cancellationToken);
            await using var e = updates.GetAsyncEnumerator(cancellationToken);
            var deleted = false;
            while (!deleted)
            {
                if (!await Quietly(e.MoveNextAsync()).ConfigureAwait(false))
                {
                    yield break;
                }

                foreach (var ev in e.Current)
                {
                    if (ev.Type == MvccEventType.Delete)
                    {
                        deleted = true;
                        break;
                    }

                    yield return (ev.Kv.ModRevision, ev.Kv);
                }
            }
        }
    }

    /// <summary>The oldest candidate now, or the first one put on the prefix after the read.</summary>
    private async Task<(long Revision, KeyValue Kv)?> NextLeaderAsync(byte[] prefix, CancellationToken cancellationToken)
    {
        var (first, revision) = await kv.FirstCreatedAsync(prefix, cancellationToken).ConfigureAwait(false);
        if (first is { } leader)
        {
            return (revision, leader);
        }

        await foreach (var events in kv.Node.WatchRevisionsAsync(prefix, ConcurrencyKv.PrefixEnd(prefix), revision, prevKv: false, cancellationToken).ConfigureAwait(false))
        {
            foreach (var ev in events)
            {
                if (ev.Type == MvccEventType.Put)
                {
                    return (ev.Kv.ModRevision, ev.Kv);
                }
            }
        }

        return null;
    }

    /// <summary>A step of observe whose failure (cancellation included) ends the stream quietly.</summary>
    private static async Task<T?> Quietly<T>(Task<T> step)
    {
        try
        {
            return await step.ConfigureAwait(false);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            return default;
        }
    }

    private static async Task<bool> Quietly(ValueTask<bool> step)
    {
        try
        {
            return await step.ConfigureAwait(false);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            return false;
        }
    }
}
