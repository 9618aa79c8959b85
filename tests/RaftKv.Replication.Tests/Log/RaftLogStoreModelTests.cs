using RaftKv.Replication.Log;
using RaftKv.TestSupport.IO;
using Xunit.Abstractions;
using static RaftKv.Replication.Tests.Log.RaftLogModel;

namespace RaftKv.Replication.Tests.Log;

/// <summary>
/// Metamorphic test of <see cref="RaftLogStore"/>: a seeded random sequence of appends (payloads
/// 0..5000 bytes, now and then 100 KB), truncations above the commit index, resets (snapshot installs),
/// compactions, flushes with an advancing commit index, power cuts (plain, and torn in the middle of a
/// flush's write: cut short, or at full length with its sectors zeroed from some point on), and clean reopens, run against <see cref="RaftLogModel"/>. After every step the
/// store's indexes and counters must equal the model's; after every reopen every entry must be there
/// with identical fields and payload. Set RAFTKV_SEED to rerun one seed.
/// </summary>
/// <remarks>
/// The seed picks the configuration (seeds 1..6 cover every combination): segments of 8 KB (rotation
/// and deletion on compaction), 64 KB or 64 MB; payload cache of 10 KB (payloads are read back from
/// the segments) or 64 MB.
/// </remarks>
public sealed class RaftLogStoreModelTests(ITestOutputHelper output)
{
    private const int Steps = 300;

    public static TheoryData<int> Seeds()
    {
        var data = new TheoryData<int>();
        if (Environment.GetEnvironmentVariable("RAFTKV_SEED") is { } s && int.TryParse(s, out var seed))
        {
            data.Add(seed);
            return data;
        }

        foreach (var x in new[] { 1, 2, 3, 4, 5, 6 })
        {
            data.Add(x);
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(Seeds))]
    public void StoreMatchesModelAcrossFlushesCrashesAndReopens(int seed)
    {
        var run = new Run(seed, output);
        output.WriteLine($"seed = {seed} (rerun with RAFTKV_SEED={seed}): segments {run.Options.SegmentBytes} B, payload cache {run.Options.PayloadCacheBytes} B");
        run.Execute(Steps);
    }

    private sealed class Run
    {
        private readonly int _seed;
        private readonly ITestOutputHelper _output;
        private readonly Random _rng;
        private readonly CrashableMemoryFileSystem _fs = new();
        private readonly RaftLogModel _model = new();
        private readonly List<string> _trace = [];
        private readonly Dictionary<string, int> _counts = [];
        private RaftLogStore _store;
        private long _maxTerm = 1;
        private int _step;
        private long _segmentReads;
        private int _maxSegments;
        private int _segmentsDeleted;
        private int _tornPartial;

        public Run(int seed, ITestOutputHelper output)
        {
            _seed = seed;
            _output = output;
            _rng = new Random(seed);
            Options = LogFixture.Options(
                _fs,
                segmentBytes: (seed % 3) switch { 0 => 64L << 20, 1 => 8 << 10, _ => 64 << 10 },
                payloadCacheBytes: seed % 2 == 0 ? 10 << 10 : 64L << 20);
            _store = RaftLogStore.Open(Options, 0, 0);
        }

        public RaftLogStoreOptions Options { get; }

        public void Execute(int steps)
        {
            try
            {
                for (_step = 0; _step < steps; _step++)
                {
                    var roll = _rng.Next(100);
                    if (roll < 38)
                    {
                        Append();
                    }
                    else if (roll < 58)
                    {
                        Flush();
                    }
                    else if (roll < 62)
                    {
                        AdvanceCommit();
                    }
                    else if (roll < 69)
                    {
                        Truncate();
                    }
                    else if (roll < 72)
                    {
                        Reset();
                    }
                    else if (roll < 79)
                    {
                        Compact();
                    }
                    else if (roll < 84)
                    {
                        Crash();
                    }
                    else if (roll < 88)
                    {
                        TornFlushCrash();
                    }
                    else if (roll < 92)
                    {
                        CleanReopen();
                    }
                    else
                    {
                        Trace("verify");
                        Verify(full: true);
                    }

                    Verify(full: false);
                    _maxSegments = Math.Max(_maxSegments, LogFixture.Segments(_fs).Count);
                }

                Flush();
                CleanReopen();
            }
            catch
            {
                _output.WriteLine($"FAILED at step {_step} (seed {_seed}); the last operations:");
                foreach (var line in _trace.TakeLast(40))
                {
                    _output.WriteLine("  " + line);
                }

                throw;
            }
            finally
            {
                _store.Dispose();
            }

            _output.WriteLine("operations: " + string.Join(", ", _counts.OrderBy(c => c.Key, StringComparer.Ordinal).Select(c => $"{c.Key}={c.Value}")));
            _output.WriteLine($"final log {_model.Mem.Base}..{_model.Mem.Last}, payloads read back from segments: {_segmentReads}, most segments at once: {_maxSegments}, segments deleted by compaction: {_segmentsDeleted}, torn flushes that kept some of their records: {_tornPartial}");
            if (Options.PayloadCacheBytes < 64 << 10)
            {
                Assert.True(_segmentReads > 0, "the small payload cache never evicted a payload: ReadPayload's file path was not exercised");
            }

            if (Options.SegmentBytes < 64 << 10)
            {
                Assert.True(_segmentsDeleted > 0, "compaction never deleted a segment");
            }
        }

        private void Trace(string what)
        {
            _trace.Add($"#{_step} {what}  [model {_model.Mem.Base}..{_model.Mem.Last}, commit {_model.Commit}, durable {_model.DurableIndex}, snapshot {_model.SnapshotIndex}, pending {_model.Pending.Count}]");
            var kind = what.Split(' ')[0];
            _counts[kind] = _counts.GetValueOrDefault(kind) + 1;
        }

        private void Append()
        {
            if (_rng.Next(8) == 0)
            {
                _maxTerm++;
            }

            var n = _rng.Next(1, 9);
            var bytes = 0;
            for (var i = 0; i < n; i++)
            {
                var size = _rng.Next(40) == 0 ? 100 << 10 : _rng.Next(5001);
                var payload = new byte[size];
                _rng.NextBytes(payload);
                var e = new ModelEntry(
                    _model.Mem.Last + 1,
                    _maxTerm,
                    _rng.NextInt64(),
                    _rng.Next(3) == 0 ? null : _rng.Next(int.MinValue, int.MaxValue),
                    _rng.Next(20) == 0,
                    payload);
                _store.Append(e.ToRecord());
                _model.Append(e);
                bytes += size;
            }

            Trace($"append {n} entries (term {_maxTerm}, {bytes} B)");
        }

        private long NextCommit() => _model.Commit + _rng.NextInt64(0, _model.Mem.Last - _model.Commit + 1);

        private void Flush()
        {
            var commit = _rng.Next(3) == 0 ? _model.Commit : NextCommit();
            Trace($"flush {commit}");
            var before = _store.Flushes;
            var wrote = _model.Flush(commit);
            _store.Flush(commit);
            Check(before + (wrote ? 1 : 0), _store.Flushes, $"Flushes after Flush({commit}) (a write was {(wrote ? "due" : "not due")})");
            CheckPayloadCache();
        }

        /// <summary>Once everything is written, cached payloads fit the budget and are the newest ones.</summary>
        private void CheckPayloadCache()
        {
            var records = _store.GetRange(_model.Mem.Base + 1, _model.Mem.Last);
            var cached = records.Where(r => r.Payload is not null).Sum(r => (long)r.Length);
            Assert.True(cached <= Options.PayloadCacheBytes, $"step {_step}: {cached} payload bytes cached after a flush, over the {Options.PayloadCacheBytes} B budget");
            var firstCached = records.FindIndex(r => r.Payload is not null);
            Assert.True(firstCached < 0 || records.Skip(firstCached).All(r => r.Payload is not null || r.Length == 0), $"step {_step}: an older payload is cached while a newer one was evicted");
        }

        private void AdvanceCommit()
        {
            _model.Commit = NextCommit();
            Trace($"commit {_model.Commit}");
        }

        private void Truncate()
        {
            var low = Math.Max(_model.Commit, _model.Mem.Base) + 1;
            var from = low > _model.Mem.Last || _rng.Next(6) == 0 ? _model.Mem.Last + 1 + _rng.Next(3) : low + _rng.NextInt64(0, _model.Mem.Last - low + 1);
            Trace($"truncate {from}");
            _store.TruncateFrom(from);
            if (_model.TruncateFrom(from) && _rng.Next(2) == 0)
            {
                _maxTerm++; // a new leader overwrites the suffix
            }
        }

        private void Reset()
        {
            var baseIndex = _model.Commit + 1 + _rng.Next(50);
            _maxTerm += _rng.Next(2);
            Trace($"reset {baseIndex} term {_maxTerm}");
            _store.Reset(baseIndex, _maxTerm);
            _model.Reset(baseIndex, _maxTerm);
            if (_rng.Next(3) == 0)
            {
                Flush(); // alone on disk: only the reset record stands between the stale suffix and the next reopen
            }
        }

        private void Compact()
        {
            if (_model.Commit <= _model.Mem.Base)
            {
                Trace("compact-skipped (nothing committed above the base)");
                return;
            }

            var index = _model.Mem.Base + 1 + _rng.NextInt64(0, _model.Commit - _model.Mem.Base);
            var term = _model.Mem.TermAt(index);
            Trace($"compact {index} term {term}");
            var before = LogFixture.Segments(_fs).Count;
            _store.Compact(index, term);
            _model.Compact(index, term);
            _segmentsDeleted += before - LogFixture.Segments(_fs).Count;
            Verify(full: true);
        }

        private void Crash()
        {
            Trace("crash");
            _fs.Crash();
            Reopen(_model.Expected(_model.Durable));
        }

        private void CleanReopen()
        {
            if (_rng.Next(2) == 0)
            {
                Flush();
            }

            Trace("reopen");
            _store.Dispose();
            Reopen(_model.Expected(_model.Durable));
        }

        /// <summary>A power cut during a flush: part of its single write reached the disk, its fsync did not return.</summary>
        private void TornFlushCrash()
        {
            if (_model.Pending.Count == 0)
            {
                Crash();
                return;
            }

            var commit = NextCommit();
            var lengths = _fs.ListFiles(LogFixture.Dir).ToDictionary(f => f, f => _fs.GetLength(LogFixture.Dir + "/" + f), StringComparer.Ordinal);
            _fs.BeforeOperation = (op, _) =>
            {
                if (op == "sync")
                {
                    throw new IOException("simulated power cut before fsync");
                }
            };
            try
            {
                Assert.Throws<IOException>(() => _store.Flush(commit));
            }
            finally
            {
                _fs.BeforeOperation = null;
            }

            var grown = _fs.ListFiles(LogFixture.Dir).Where(f => !lengths.TryGetValue(f, out var l) || _fs.GetLength(LogFixture.Dir + "/" + f) != l).ToList();
            Check(1, grown.Count, "files the interrupted flush wrote to");
            var path = LogFixture.Dir + "/" + grown[0];
            string how;
            if (lengths.TryGetValue(grown[0], out var synced))
            {
                // Any prefix of the write may have reached the disk; never all of it (the last record is torn).
                var length = _fs.GetLength(path);
                var cut = synced + _rng.NextInt64(0, length - synced);
                var zeroFrom = Math.Max(synced, cut / 512 * 512);
                if (_rng.Next(2) == 0 || !ReadFile(path).AsSpan((int)zeroFrom).ContainsAnyExcept((byte)0))
                {
                    _fs.Truncate(path, cut);
                    how = $"torn in {grown[0]} at {cut} (synced {synced})";
                }
                else
                {
                    // Or the file size reached the disk but the sectors from some point on did not (zeros).
                    _fs.Zero(path, zeroFrom, length - zeroFrom);
                    how = $"torn in {grown[0]}: zeros from {zeroFrom} to {length} (synced {synced})";
                }
            }
            else
            {
                how = $"in new segment {grown[0]} (its directory entry was never synced)";
            }

            Trace($"torn-crash flush {commit} {how}");
            _fs.Crash();
            var candidates = _model.TornCandidates().Select(_model.Expected).ToList();
            _store = RaftLogStore.Open(Options, _model.SnapshotIndex, _model.SnapshotTerm);
            var match = candidates.FindIndex(c => c.Last == _store.LastIndex && c.Entries.All(e => Same(e, _store.Get(e.Index))));
            Assert.True(match >= 0, $"step {_step}: after a torn flush the log ends at {_store.LastIndex}; it should be the log after some prefix of the flush's operations, ending at one of [{string.Join(", ", candidates.Select(c => c.Last))}]");
            Trace($"torn-recovered the first {match} of {_model.Pending.Count} operations");
            Check(0, match, "operations of the torn flush recovered (format v2: a flush is one batch, all or none)");
            if (match > 0)
            {
                _tornPartial++;
            }
            _model.Reopened(candidates[match]);
            Verify(full: true);
        }

        private byte[] ReadFile(string path)
        {
            using var file = _fs.OpenRead(path);
            var data = new byte[file.Length];
            file.ReadExactly(0, data);
            return data;
        }

        private void Reopen(RaftLogModel.LogState expected)
        {
            _store = RaftLogStore.Open(Options, _model.SnapshotIndex, _model.SnapshotTerm);
            _model.Reopened(expected);
            Verify(full: true);
        }

        private bool Same(ModelEntry e, LogRecord? r)
            => r is not null && r.Index == e.Index && r.Term == e.Term && r.TimestampTicks == e.TimestampTicks && r.CommandId == e.CommandId
               && r.IsConfiguration == e.IsConfiguration && r.Length == e.Payload.Length && e.Payload.AsSpan().SequenceEqual(_store.ReadPayload(r));

        private void Verify(bool full)
        {
            var m = _model.Mem;
            Check(m.Base, _store.BaseIndex, "BaseIndex");
            Check(m.Last, _store.LastIndex, "LastIndex");
            Check(_model.DurableIndex, _store.DurableIndex, "DurableIndex");
            Assert.True(_store.DurableIndex <= _store.LastIndex, $"step {_step}: DurableIndex {_store.DurableIndex} > LastIndex {_store.LastIndex}");
            Check(_model.DurableCommit, _store.DurableCommitIndex, "DurableCommitIndex");
            Check(_model.Flushes, _store.Flushes, "Flushes");
            Check(m.BaseTerm, _store.TermAt(m.Base), $"TermAt(base {m.Base})");
            Check(-1L, _store.TermAt(m.Last + 1), "TermAt(last + 1)");
            Assert.Null(_store.Get(m.Base));
            Assert.Null(_store.Get(m.Last + 1));
            if (m.Base > 0)
            {
                Check(-1L, _store.TermAt(m.Base - 1), "TermAt(base - 1)");
            }

            if (m.Entries.Count == 0)
            {
                Assert.Empty(_store.GetRange(m.Base - 5, m.Last + 5));
                return;
            }

            if (full)
            {
                foreach (var r in _store.GetRange(m.Base + 1, m.Last))
                {
                    Assert.True(r.Segment is null || _fs.Exists(r.Segment), $"step {_step}: entry {r.Index} is in {r.Segment}, which was deleted");
                }
            }

            var entries = full ? m.Entries : [m.Entries[0], m.Entries[^1], m.Entries[_rng.Next(m.Entries.Count)]];
            foreach (var e in entries)
            {
                var r = _store.Get(e.Index);
                Assert.True(r is not null, $"step {_step}: entry {e.Index} is missing");
                Check(e.Term, _store.TermAt(e.Index), $"TermAt({e.Index})");
                if (r.Payload is null)
                {
                    _segmentReads++;
                }

                Assert.True(Same(e, r), $"step {_step}: entry {e.Index} differs: term {r.Term}/{e.Term}, ts {r.TimestampTicks}/{e.TimestampTicks}, cmd {r.CommandId}/{e.CommandId}, conf {r.IsConfiguration}/{e.IsConfiguration}, length {r.Length}/{e.Payload.Length}");
            }

            var from = m.Base - 2 + _rng.NextInt64(0, m.Entries.Count + 4);
            var to = from + _rng.Next(-1, 20);
            var range = _store.GetRange(from, to);
            var want = m.Entries.Where(e => e.Index >= from && e.Index <= to).Select(e => e.Index).ToList();
            Assert.Equal(want, range.Select(r => r.Index).ToList());
            Assert.All(range, r => Assert.Same(_store.Get(r.Index), r));
        }

        private void Check<T>(T expected, T actual, string what)
        {
            if (!EqualityComparer<T>.Default.Equals(expected, actual))
            {
                Assert.Fail($"step {_step}: {what}: expected {expected}, store has {actual}");
            }
        }
    }
}
