using RaftKv.Storage.Tables;
using RaftKv.TestSupport.IO;
using Xunit.Abstractions;
using static RaftKv.Storage.Tests.Helpers;

namespace RaftKv.Storage.Tests;

/// <summary>
/// Metamorphic test in pebble's style: a seeded random sequence of puts, deletes, TTL puts, gets,
/// scans, flushes, compactions, crashes (power cuts on the crash-simulating file system) and
/// reopens is run against the engine and against a SortedDictionary model. After a crash the
/// engine reopens at its DurableIndex and the op log is replayed from there, exactly as the Raft
/// log is replayed in production. Set RAFTKV_SEED to reproduce a failing seed.
/// </summary>
public sealed class ModelBasedTests(ITestOutputHelper output)
{
    public static TheoryData<int> Seeds()
    {
        var data = new TheoryData<int>();
        if (Environment.GetEnvironmentVariable("RAFTKV_SEED") is { } s && int.TryParse(s, out var seed))
        {
            data.Add(seed);
            return data;
        }

        foreach (var x in new[] { 1, 7, 42, 1337, 90210 })
        {
            data.Add(x);
        }

        return data;
    }

    /// <summary>Seeds of the compressed and archiving variant, with the local and the object tier's codec
    /// (re-encoding at archive when they differ).</summary>
    public static TheoryData<int, BlockCompression, BlockCompression> CompressedSeeds()
    {
        var data = new TheoryData<int, BlockCompression, BlockCompression>();
        var codecs = new[] { (BlockCompression.Lz4, BlockCompression.Zstd), (BlockCompression.Zstd, BlockCompression.Lz4), (BlockCompression.None, BlockCompression.Zstd), (BlockCompression.Lz4, BlockCompression.Lz4) };
        var seeds = Environment.GetEnvironmentVariable("RAFTKV_SEED") is { } s && int.TryParse(s, out var one) ? [one] : new[] { 7, 42, 1337, 90210 };
        for (var i = 0; i < seeds.Length; i++)
        {
            foreach (var (local, remote) in seeds.Length == 1 ? codecs : [codecs[i % codecs.Length]])
            {
                data.Add(seeds[i], local, remote);
            }
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(Seeds))]
    public Task EngineMatchesModel(int seed) => RunAsync(seed, BlockCompression.None, null);

    /// <summary>The same with key-value separation (values of at least 24 bytes in value files), archiving now and
    /// then (archived tables take their values inline), and checkpoints ingested by a fresh store that carries on:
    /// after every flush, compaction and reopen the value files on disk are exactly those live tables point into.</summary>
    [Theory]
    [MemberData(nameof(Seeds))]
    public Task EngineWithValueFilesMatchesModel(int seed) => RunAsync(seed, seed % 3 == 0 ? BlockCompression.Lz4 : BlockCompression.None, seed % 2 == 0 ? BlockCompression.None : null, blobMinBytes: 24);

    /// <summary>The same with compressed tables and, now and then, a local table archived to an
    /// in-memory object store that survives the simulated power cuts.</summary>
    [Theory]
    [MemberData(nameof(CompressedSeeds))]
    public Task EngineWithCompressionAndArchivingMatchesModel(int seed, BlockCompression local, BlockCompression remote) => RunAsync(seed, local, remote);

    private async Task RunAsync(int seed, BlockCompression compression, BlockCompression? remoteCompression, int blobMinBytes = 0)
    {
        var partitioned = seed % 2 == 1; // odd seeds: tables split at key-space boundaries (LsmOptions.PartitionBoundaries)
        output.WriteLine($"seed = {seed} (rerun with RAFTKV_SEED={seed}), compression {compression}, archive {remoteCompression?.ToString() ?? "off"}, partitioned {partitioned}, value files from {blobMinBytes} bytes{(blobMinBytes > 0 ? " (k2…: from 8)" : "")}");
        var rng = new Random(seed);
        var fs = new CrashableMemoryFileSystem();
        var objects = remoteCompression is null ? null : new FileSystemRemoteTableStore(fs);
        var options = new LsmOptions
        {
            Compression = compression,
            RemoteCompression = remoteCompression ?? BlockCompression.None,
            RemoteStore = objects,
            Directory = "/db",
            FileSystem = fs,
            MemtableMaxBytes = 8 << 10,
            BackgroundWork = false,
            BlockSize = 256,
            TargetFileBytes = 4 << 10,
            L1TargetBytes = 8 << 10,
            L0CompactionTrigger = 3,
            PartitionBoundaries = partitioned ? [B("k1"), B("k15"), B("k2")] : [],
            BlobMinBytes = blobMinBytes,
            ValueFileRules = blobMinBytes > 0 ? [new ValueFileRule(B("k2"), 8)] : [], // k2xx: separated from 8 bytes
        };

        var model = new SortedDictionary<string, (string Value, long Version, long Expires)>(StringComparer.Ordinal);
        var log = new List<(long Index, WriteOp[] Ops)>();
        long index = 0;
        long now = 1_000;
        var sequential = 0;
        long compactions = 0, moves = 0;
        var store = await LsmStore.OpenAsync(options);
        try
        {
            for (var step = 0; step < 4000; step++)
            {
                if (objects is not null && rng.Next(40) == 0)
                {
                    var local = store.ListTables().Where(t => !t.IsRemote).ToList();
                    if (local.Count > 0)
                    {
                        var table = local[rng.Next(local.Count)];
                        Assert.True(await store.ArchiveTableAsync(table.Id, $"objects/{table.Id}-{step}.sst"), $"step {step}: archive {table.Id} (seed {seed})");
                    }

                    continue;
                }

                // Now and then keys in ascending runs, so that some tables overlap nothing below (trivial moves).
                var key = rng.Next(4) == 0 ? $"k{sequential++ % 300:D3}" : $"k{rng.Next(300):D3}";
                var roll = rng.Next(1000);
                if (roll < 450)
                {
                    var value = $"v{step}-{new string('x', rng.Next(40))}";
                    var expires = rng.Next(10) == 0 ? now + rng.Next(1, 500) : 0;
                    Write(new[] { WriteOp.Put(B(key), B(value), expires) });
                    model[key] = (value, index, expires);
                }
                else if (roll < 600)
                {
                    Write(new[] { WriteOp.Delete(B(key)) });
                    model.Remove(key);
                }
                else if (roll < 800)
                {
                    var got = await store.GetAsync(B(key), now);
                    var expected = model.TryGetValue(key, out var m) && (m.Expires == 0 || m.Expires > now) ? m : default;
                    Assert.True((got is null) == (expected.Value is null), $"step {step}: get {key} presence (seed {seed})");
                    if (got is { } g)
                    {
                        Assert.Equal(expected.Value, S(g.Value));
                        Assert.Equal(expected.Version, g.Version);
                    }
                }
                else if (roll < 880)
                {
                    var start = $"k{rng.Next(300):D3}";
                    var limit = rng.Next(0, 30);
                    var got = await ScanAll(store, start, "k2", limit, now);
                    var expected = model.Where(kv => string.CompareOrdinal(kv.Key, start) >= 0 && string.CompareOrdinal(kv.Key, "k2") < 0 && (kv.Value.Expires == 0 || kv.Value.Expires > now))
                        .Take(limit == 0 ? int.MaxValue : limit).Select(kv => kv.Key + "=" + kv.Value.Value).ToList();
                    Assert.Equal(expected, got.Select(e => S(e.Key) + "=" + S(e.Value)).ToList());
                }
                else if (roll < 920)
                {
                    now += rng.Next(0, 100);
                }
                else if (roll < 950)
                {
                    await store.FlushAsync();
                    AssertBlobFilesLive();
                }
                else if (roll < 962)
                {
                    await store.CompactAsync(now);
                    AssertBlobFilesLive();
                }
                else if (roll < 966 && blobMinBytes > 0)
                {
                    // A checkpoint ingested by a fresh store in another directory, which carries on (a follower
                    // installing a Raft snapshot): its tables are renumbered, its value files keep their names.
                    var checkpoint = $"/checkpoint-{step}";
                    await store.CheckpointAsync(checkpoint);
                    var next = await LsmStore.OpenAsync(options with { Directory = $"/db-{step}" });
                    await next.IngestAsync(checkpoint);
                    fs.DeleteDirectory(checkpoint);
                    Tally();
                    await store.DisposeAsync();
                    options = options with { Directory = $"/db-{step}" };
                    store = next;
                    Replay();
                    AssertBlobFilesLive();
                }
                else if (roll < 975)
                {
                    // What the background loop does: rounds of picked work (merges and trivial moves) until settled.
                    while (await store.CompactStepAsync(now))
                    {
                        PartitionedTablesTests.AssertLevelsDisjoint(store.CurrentTables, options.PartitionBoundaries);
                    }

                    AssertBlobFilesLive();
                }
                else if (roll < 990)
                {
                    // Power cut: only fsynced data and synced directory entries survive.
                    Tally();
                    fs.Crash();
                    store = await ReopenAsync(store);
                    AssertBlobFilesLive();
                }
                else
                {
                    Tally();
                    await store.DisposeAsync();
                    store = await LsmStore.OpenAsync(options);
                    Replay();
                }
            }

            Tally();
            var blobStats = store.GetStats();
            output.WriteLine($"{compactions} compactions, {moves} trivial moves, {blobStats.BlobFiles} value files ({blobStats.BlobLiveBytes} of {blobStats.BlobBytes} bytes live)");
            await store.CompactAsync(now);
            AssertBlobFilesLive();
            var final = await ScanAll(store, now: now);
            Assert.Equal(
                model.Where(kv => kv.Value.Expires == 0 || kv.Value.Expires > now).Select(kv => kv.Key).ToList(),
                final.Select(e => S(e.Key)).ToList());
        }
        finally
        {
            await store.DisposeAsync();
        }

        void AssertBlobFilesLive()
        {
            var referenced = store.CurrentTables.All.Where(t => !t.IsRemote).SelectMany(t => t.Meta.BlobRefs).Select(r => r.FileId).ToHashSet();
            var files = fs.ListFiles(options.Directory).Select(Blobs.BlobSet.ParseName).OfType<ulong>().ToHashSet();
            Assert.True(referenced.SetEquals(files), $"value files {string.Join(",", files)} != referenced {string.Join(",", referenced)} (seed {seed})");
            Assert.True(blobMinBytes > 0 || files.Count == 0);
        }

        void Tally()
        {
            var st = store.GetStats();
            compactions += st.Compactions;
            moves += st.TrivialMoves;
        }

        void Write(WriteOp[] ops)
        {
            index++;
            log.Add((index, ops));
            store.Apply(index, ops);
        }

        void Replay()
        {
            Assert.True(store.DurableIndex <= index);
            foreach (var (i, ops) in log.Where(l => l.Index > store.DurableIndex))
            {
                store.Apply(i, ops);
            }

            Assert.Equal(index, store.AppliedIndex);
        }

        async Task<LsmStore> ReopenAsync(LsmStore old)
        {
            try
            {
                await old.DisposeAsync();
            }
            catch (IOException)
            {
            }

            var reopened = await LsmStore.OpenAsync(options);
            store = reopened;
            Replay();
            return reopened;
        }
    }
}
