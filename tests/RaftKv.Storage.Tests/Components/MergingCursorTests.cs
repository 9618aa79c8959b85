using RaftKv.Storage.Iteration;
using RaftKv.Storage.Memtables;
using RaftKv.Storage.Tables;
using RaftKv.TestSupport.IO;
using static RaftKv.Storage.Tests.Helpers;

namespace RaftKv.Storage.Tests.Components;

/// <summary>The merge of a memtable, a local table and an archived table, driven by a seeded mix of
/// the synchronous path (<see cref="EntryCursor.TryMoveNext"/>) and the async one: the result is
/// the newest version of every key whichever path moved, and the synchronous path does hand over
/// to the async one at archived blocks.</summary>
public sealed class MergingCursorTests
{
    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public async Task SyncAndAsyncMovesMergeNewestFirstAcrossObjectTierBlocks(int seed)
    {
        var fs = new CrashableMemoryFileSystem();
        fs.CreateDirectory("/db");
        var cache = new BlockCache(1 << 20);
        var mem = new Memtable(1);
        var expected = new SortedDictionary<string, string>(StringComparer.Ordinal);
        for (var i = 0; i < 2_000; i += 3)
        {
            expected[$"k{i:D5}"] = "old"; // the archived table is the oldest source
        }

        var local = Table(fs, cache, 1, Enumerable.Range(0, 1_000).Select(i => i * 2), "mid", remote: null);
        foreach (var i in Enumerable.Range(0, 1_000))
        {
            expected[$"k{i * 2:D5}"] = "mid";
        }

        for (var i = 0; i < 2_000; i += 5)
        {
            mem.Add(B($"k{i:D5}"), B("new"), i + 1, 0, tombstone: false);
            expected[$"k{i:D5}"] = "new";
        }

        var remoteStore = new MemoryRemoteTableStore();
        var archived = Table(fs, cache, 2, Enumerable.Range(0, 667).Select(i => i * 3), "old", remoteStore);
        var merged = new MergingCursor([new MemtableCursor(mem, Array.Empty<byte>(), Array.Empty<byte>(), long.MaxValue), new TableCursor([local], []), new TableCursor([archived], [])]);

        var rng = new Random(seed);
        var got = new List<(string, string)>();
        var handOvers = 0;
        while (true)
        {
            bool more;
            if (rng.Next(4) == 0)
            {
                more = await merged.MoveNextAsync(CancellationToken.None);
            }
            else if (!merged.TryMoveNext(out more))
            {
                handOvers++;
                more = await merged.MoveNextAsync(CancellationToken.None);
            }

            if (!more)
            {
                break;
            }

            got.Add((S(merged.Key.ToArray()), S(merged.Value)));
        }

        Assert.Equal(expected.Select(kv => (kv.Key, kv.Value)), got);
        Assert.True(handOvers > 0, "the archived table's blocks never made the synchronous path hand over");
        Assert.False(merged.TryMoveNext(out var after) && after); // stays at the end
    }

    private static TableReader Table(CrashableMemoryFileSystem fs, BlockCache cache, long id, IEnumerable<int> keys, string value, MemoryRemoteTableStore? remote)
    {
        var path = $"/db/{id:D6}.sst";
        using (var w = new TableWriter(fs, path, blockSize: 256, BlockCompression.None))
        {
            foreach (var k in keys)
            {
                w.Add(B($"k{k:D5}"), B(value), id, 0, tombstone: false);
            }

            w.Finish(createdUnixMs: 0);
        }

        var reader = TableReader.OpenLocal(fs, path, id, cache);
        if (remote is null)
        {
            return reader;
        }

        using var file = fs.OpenRead(path);
        var bytes = new byte[file.Length];
        file.ReadExactly(0, bytes);
        remote.Objects[path] = bytes;
        var tail = bytes.AsSpan((int)reader.TailOffset).ToArray();
        return TableReader.FromTail(path, id + 100, tail, bytes.Length, new RemoteBlockSource(remote, path), cache);
    }

    private sealed class MemoryRemoteTableStore : IRemoteTableStore
    {
        public Dictionary<string, byte[]> Objects { get; } = [];

        public Task UploadAsync(string objectName, string localPath, CancellationToken cancellationToken = default) => throw new NotSupportedException();

        public async ValueTask ReadAsync(string objectName, long offset, Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            await Task.Yield(); // a real round trip: the caller has to wait
            Objects[objectName].AsMemory((int)offset, buffer.Length).CopyTo(buffer);
        }

        public Task DeleteAsync(string objectName, CancellationToken cancellationToken = default) => throw new NotSupportedException();
    }
}
