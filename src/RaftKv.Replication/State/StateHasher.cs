using System.Buffers.Binary;
using System.Security.Cryptography;
using Microsoft.Extensions.Logging;
using RaftKv.Replication.Api;
using RaftKv.Storage;

namespace RaftKv.Replication.State;

/// <summary>
/// Hashes of this replica's user keyspace at hash checkpoints (the corruption check,
/// docs/architecture.md, "Corruption check").
/// </summary>
/// <remarks>
/// <para><b>Same index on every replica.</b> The applier calls <see cref="Capture"/> right after it
/// applied the hash checkpoint at index N and before it applies N + 1. Capture starts one
/// <see cref="IKvStore.ScanAsync"/> per user range and makes its first move there, on the apply path:
/// a scan pins its point-in-time view (memtables read at the applied index, and the table set, kept
/// alive) on its first move, so the views are the state exactly as of N. The rest of the scan — all
/// the reading and hashing — runs on a background task, concurrently with later entries, flushes,
/// compactions and archiving, none of which can change what a pinned view reads. The first move never
/// awaits: if its first entry needs the object store, the pending move is handed to the background
/// task (applying never waits on S3).</para>
/// <para><b>What is hashed</b> is what clients can observe and nothing of the physical layout: every live
/// key outside the reserved prefix 0x00 0xFF (so the state machine's own records — clock, request ids,
/// alarms, and MVCC history kept there — are left out) at the logical clock of N, in key order, as
/// <c>keyLength:u32 key version:i64 expiresAt:i64 valueLength:u32 value</c> (little-endian) into
/// SHA-256 (hash format 1). Values of archived tables are read from the object store by the
/// background task, so the check compares values on every tier; while the object store is down a
/// replica with archived tables gives no hash (unanswered, not corrupt).</para>
/// <para>A file failing its checksum while hashing (<see cref="StorageCorruptionException"/>) is itself
/// the answer: <see cref="StateHash.Corruption"/> names the file.</para>
/// <para>Hashes live in memory only, the last <see cref="Kept"/> checkpoints; a replica restarted after
/// N re-applies N from its log (and captures again) unless N is already in its durable store.</para>
/// </remarks>
internal sealed partial class StateHasher(IKvStore store, ILogger logger) : IDisposable
{
    /// <summary>How many checkpoints' hashes are kept.</summary>
    public const int Kept = 16;

    private static readonly (byte[] Start, byte[] End)[] UserRanges =
    [
        ([], ReservedKeys.Prefix),
        (KeyRanges.PrefixEnd(ReservedKeys.Prefix), []),
    ];

    /// <summary>The "m/" records, scanned alongside the user keys to tell a value kept once (layout version 3).</summary>
    private static readonly (byte[] Start, byte[] End) MetaRange = (MvccLayout.MetaPrefix, KeyRanges.PrefixEnd(MvccLayout.MetaPrefix));

    private readonly Lock _lock = new();
    private readonly SortedList<long, Task<StateHash>> _hashes = [];
    private readonly CancellationTokenSource _stop = new();

    /// <summary>Applier only, right after applying the hash checkpoint at <paramref name="index"/>:
    /// pins the state as of <paramref name="index"/> and hashes it in the background.</summary>
    public void Capture(long index, long nowUnixMs)
    {
        var scans = new List<(IAsyncEnumerator<KvEntry> Scan, Task<bool> First)>(UserRanges.Length);
        Task<StateHash> task;
        try
        {
            foreach (var (start, end) in UserRanges.Append(MetaRange))
            {
                var scan = store.ScanAsync(start, end, 0, nowUnixMs, _stop.Token).GetAsyncEnumerator(_stop.Token);
                scans.Add((scan, scan.MoveNextAsync().AsTask())); // pins the view as of index (never awaited here)
            }

            task = Task.Run(() => HashAsync(index, nowUnixMs, scans));
        }
        catch (StorageCorruptionException e)
        {
            _ = ReleaseAsync(scans);
            LogCorruptWhileHashing(logger, index, e.Message);
            task = Task.FromResult(new StateHash(0, index, null, 0, e.Message));
        }
        catch (IOException e)
        {
            _ = ReleaseAsync(scans); // a local read error: no hash here (unanswered), the applier goes on
            task = Task.FromException<StateHash>(e);
        }

        lock (_lock)
        {
            _hashes[index] = task;
            while (_hashes.Count > Kept)
            {
                _hashes.RemoveAt(0);
            }
        }
    }

    /// <summary>The hash captured at <paramref name="index"/> (completes when computed), or null when
    /// this replica has none for it.</summary>
    public Task<StateHash>? Find(long index)
    {
        lock (_lock)
        {
            return _hashes.GetValueOrDefault(index);
        }
    }

    public void Dispose()
    {
        _stop.Cancel();
        _stop.Dispose();
    }

    private async Task<StateHash> HashAsync(long index, long nowUnixMs, List<(IAsyncEnumerator<KvEntry> Scan, Task<bool> First)> scans)
    {
        using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        var header = new byte[8];
        long keys = 0;
        try
        {
            var meta = new MetaCursor(scans[^1].Scan, scans[^1].First);
            foreach (var (scan, first) in scans.Take(UserRanges.Length))
            {
                var more = await first.ConfigureAwait(false);
                while (more)
                {
                    var e = scan.Current;
                    if (e.Value.IsEmpty && await meta.FindAsync(e.Key).ConfigureAwait(false) is { ValueInHistory: true } m)
                    {
                        e = e with { Value = await ValueKeptOnceAsync(e.Key, m, nowUnixMs).ConfigureAwait(false) };
                    }

                    Append(sha, header, e);
                    keys++;
                    more = await scan.MoveNextAsync().ConfigureAwait(false);
                }
            }

            return new StateHash(0, index, Convert.ToHexStringLower(sha.GetHashAndReset()), keys);
        }
        catch (StorageCorruptionException e)
        {
            LogCorruptWhileHashing(logger, index, e.Message);
            return new StateHash(0, index, null, keys, e.Message);
        }
        finally
        {
            await ReleaseAsync(scans).ConfigureAwait(false);
        }
    }

    /// <summary>Disposes the scans (releasing their views) once no first move is in flight.</summary>
    private static async Task ReleaseAsync(List<(IAsyncEnumerator<KvEntry> Scan, Task<bool> First)> scans)
    {
        foreach (var (scan, first) in scans)
        {
            try
            {
                await first.ConfigureAwait(false);
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                // Already reported through the hash's outcome.
            }

            await scan.DisposeAsync().ConfigureAwait(false);
        }
    }

    /// <summary>The value kept once of a key hashed at a checkpoint: its history record is written once and never
    /// changed, so reading it now reads what the checkpoint held. It is gone only if the key changed since and was
    /// compacted past (no hash: unanswered, as for any local read error) or if it was lost while the key's
    /// metadata still names it (corrupt).</summary>
    private async Task<ReadOnlyMemory<byte>> ValueKeptOnceAsync(ReadOnlyMemory<byte> key, KeyMeta m, long nowUnixMs)
    {
        if (await KeptOnceValues.ReadAsync(store, key, m.Mod, nowUnixMs, _stop.Token).ConfigureAwait(false) is { } kept)
        {
            return kept.Value;
        }

        var now = store.GetMetadata(MvccLayout.MetaKey(key.Span), long.MaxValue) is { LocalValue: { } local } ? MvccLayout.DecodeMeta(local.Span, 0) : (KeyMeta?)null;
        var detail = $"the history record holding the value of key {Convert.ToHexString(key.Span)} at mod revision {m.Mod} is missing";
        throw now?.Mod == m.Mod ? new StorageCorruptionException("MVCC history", detail) : new IOException(detail + " (the key changed since the checkpoint)");
    }

    private static void Append(IncrementalHash sha, byte[] scratch, KvEntry e)
    {
        BinaryPrimitives.WriteUInt32LittleEndian(scratch, (uint)e.Key.Length);
        sha.AppendData(scratch, 0, 4);
        sha.AppendData(e.Key.Span);
        BinaryPrimitives.WriteInt64LittleEndian(scratch, e.Version);
        sha.AppendData(scratch);
        BinaryPrimitives.WriteInt64LittleEndian(scratch, e.ExpiresAtUnixMs);
        sha.AppendData(scratch);
        BinaryPrimitives.WriteUInt32LittleEndian(scratch, (uint)e.Value.Length);
        sha.AppendData(scratch, 0, 4);
        sha.AppendData(e.Value.Span);
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "Hashing the state at index {Index} for the corruption check hit a corrupt file: {Error}")]
    private static partial void LogCorruptWhileHashing(ILogger logger, long index, string error);
}
