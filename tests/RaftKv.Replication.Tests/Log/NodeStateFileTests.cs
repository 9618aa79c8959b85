using System.Net;
using DotNext.Net.Cluster;
using RaftKv.Replication.Log;
using RaftKv.Storage;
using RaftKv.Storage.IO;
using RaftKv.TestSupport.IO;
using static RaftKv.Replication.Tests.Log.LogFixture;

namespace RaftKv.Replication.Tests.Log;

public sealed class NodeStateFileTests
{
    private static readonly ClusterMemberId A = ClusterMemberId.FromEndPoint(new IPEndPoint(IPAddress.Loopback, 5001));
    private static readonly ClusterMemberId B = ClusterMemberId.FromEndPoint(new IPEndPoint(IPAddress.Loopback, 5002));
    private static readonly ClusterMemberId C = ClusterMemberId.FromEndPoint(new IPEndPoint(IPAddress.Parse("10.0.0.3"), 5001));

    private static CrashableMemoryFileSystem NewFs()
    {
        var fs = new CrashableMemoryFileSystem();
        fs.CreateDirectory(Dir);
        return fs;
    }

    private static void AssertVote(NodeStateFile state, ClusterMemberId? votedFor)
    {
        foreach (var id in new[] { A, B, C })
        {
            Assert.Equal(votedFor is null || votedFor.Value == id, state.IsVotedFor(id));
        }
    }

    [Fact]
    public void MemberIdsUsedHereAreDistinct()
    {
        Assert.NotEqual(A, B);
        Assert.NotEqual(A, C);
        Assert.NotEqual(B, C);
    }

    [Fact]
    public void FreshStateHasTermZeroAndNoVote()
    {
        var fs = NewFs();
        var state = NodeStateFile.Open(fs, Dir);
        Assert.Equal(0, state.Term);
        AssertVote(state, null);
        Assert.Empty(fs.ListFiles(Dir)); // opening writes nothing
    }

    [Fact]
    public void VoteIsExclusiveWithinATermAndSurvivesReopen()
    {
        var fs = NewFs();
        var state = NodeStateFile.Open(fs, Dir);
        state.UpdateTerm(3, resetVote: true);
        state.UpdateVotedFor(A);
        Assert.Equal(3, state.Term);
        AssertVote(state, A);

        var reopened = NodeStateFile.Open(fs, Dir);
        Assert.Equal(3, reopened.Term);
        AssertVote(reopened, A);
    }

    [Fact]
    public void UpdateTermResetsTheVoteOnlyWhenAsked()
    {
        var fs = NewFs();
        var state = NodeStateFile.Open(fs, Dir);
        state.UpdateVotedFor(B);
        state.UpdateTerm(5, resetVote: false);
        Assert.Equal(5, state.Term);
        AssertVote(state, B);
        AssertVote(NodeStateFile.Open(fs, Dir), B);

        state.UpdateTerm(6, resetVote: true);
        Assert.Equal(6, state.Term);
        AssertVote(state, null);
        var reopened = NodeStateFile.Open(fs, Dir);
        Assert.Equal(6, reopened.Term);
        AssertVote(reopened, null);
    }

    [Fact]
    public void IncrementTermVotesForTheCandidate()
    {
        var fs = NewFs();
        var state = NodeStateFile.Open(fs, Dir);
        state.UpdateTerm(7, resetVote: true);
        Assert.Equal(8, state.IncrementTerm(C));
        Assert.Equal(8, state.Term);
        AssertVote(state, C);
        Assert.Equal(9, state.IncrementTerm(A));
        AssertVote(state, A);

        var reopened = NodeStateFile.Open(fs, Dir);
        Assert.Equal(9, reopened.Term);
        AssertVote(reopened, A);
    }

    [Fact]
    public void EveryChangeIsDurableWhenTheCallReturns()
    {
        var fs = NewFs();
        var state = NodeStateFile.Open(fs, Dir);

        state.UpdateTerm(2, resetVote: true);
        fs.Crash();
        state = NodeStateFile.Open(fs, Dir);
        Assert.Equal(2, state.Term);
        AssertVote(state, null);

        state.UpdateVotedFor(B);
        fs.Crash();
        state = NodeStateFile.Open(fs, Dir);
        Assert.Equal(2, state.Term);
        AssertVote(state, B);

        state.IncrementTerm(A);
        fs.Crash();
        state = NodeStateFile.Open(fs, Dir);
        Assert.Equal(3, state.Term);
        AssertVote(state, A);

        state.UpdateTerm(4, resetVote: true);
        fs.Crash();
        state = NodeStateFile.Open(fs, Dir);
        Assert.Equal(4, state.Term);
        AssertVote(state, null);
    }

    [Theory]
    [InlineData("create")]
    [InlineData("sync")]
    [InlineData("rename")]
    [InlineData("syncdir")]
    public void PowerCutDuringAnUpdateLeavesTheOldState(string cutBefore)
    {
        var fs = NewFs();
        var state = NodeStateFile.Open(fs, Dir);
        state.UpdateTerm(10, resetVote: true);
        state.UpdateVotedFor(A);

        fs.BeforeOperation = (op, _) =>
        {
            if (op == cutBefore)
            {
                throw new IOException($"simulated power cut before {op}");
            }
        };
        Assert.Throws<IOException>(() => state.UpdateTerm(11, resetVote: true));
        fs.BeforeOperation = null;
        Assert.Equal(10, state.Term); // the failed update is not visible in memory either
        AssertVote(state, A);

        fs.Crash();
        var reopened = NodeStateFile.Open(fs, Dir);
        Assert.Equal(10, reopened.Term);
        AssertVote(reopened, A);
    }

    [Fact]
    public void FlippedByteIsCorruption()
    {
        var fs = NewFs();
        var state = NodeStateFile.Open(fs, Dir);
        state.IncrementTerm(A);
        var path = Dir + "/state";
        for (var offset = 0; offset < fs.GetLength(path); offset += 5)
        {
            fs.Corrupt(path, offset);
            var e = Assert.Throws<StorageCorruptionException>(() => NodeStateFile.Open(fs, Dir));
            Assert.Equal(path, e.FilePath.Replace('\\', '/'));
            fs.Corrupt(path, offset); // flip it back
            Assert.Equal(1, NodeStateFile.Open(fs, Dir).Term);
        }
    }

    [Fact]
    public void TruncatedOrEmptyFileIsCorruption()
    {
        var fs = NewFs();
        NodeStateFile.Open(fs, Dir).IncrementTerm(A);
        var path = Dir + "/state";
        fs.Truncate(path, fs.GetLength(path) - 1);
        Assert.Throws<StorageCorruptionException>(() => NodeStateFile.Open(fs, Dir));
        fs.Truncate(path, 0);
        Assert.Throws<StorageCorruptionException>(() => NodeStateFile.Open(fs, Dir));
    }

    [Fact]
    public void RoundTripsOnARealDirectoryNextToTheLog()
    {
        using var dir = new TempDir();
        var state = NodeStateFile.Open(PhysicalFileSystem.Instance, dir.Path);
        Assert.Equal(1, state.IncrementTerm(B));
        using (var store = RaftLogStore.Open(Options(PhysicalFileSystem.Instance, directory: dir.Path), 0, 0))
        {
            AppendRange(store, 1, 3);
            store.Flush(3);
        }

        state.UpdateTerm(12, resetVote: false);
        Assert.False(File.Exists(Path.Combine(dir.Path, "state.tmp")));

        // The log ignores the state file in its directory, and the state file the segments.
        using var reopenedLog = RaftLogStore.Open(Options(PhysicalFileSystem.Instance, directory: dir.Path), 0, 0);
        Assert.Equal(3, reopenedLog.LastIndex);
        var reopened = NodeStateFile.Open(PhysicalFileSystem.Instance, dir.Path);
        Assert.Equal(12, reopened.Term);
        AssertVote(reopened, B);
    }
}
