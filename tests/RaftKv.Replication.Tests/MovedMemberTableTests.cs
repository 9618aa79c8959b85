using Microsoft.Extensions.Logging.Abstractions;
using RaftKv.Replication.Commands;
using RaftKv.Replication.State;
using RaftKv.Storage;
using RaftKv.Storage.IO;

namespace RaftKv.Replication.Tests;

/// <summary>
/// The moved-member records (etcd MemberUpdate; <see cref="LearnerChangeKind.Moved"/>) as the applier keeps them: one
/// record per member id (a second move replaces the address), apart from the learners, reloaded from the store after
/// a restart, and ended by <see cref="LearnerChangeKind.Promoted"/> (back at its new address) or
/// <see cref="LearnerChangeKind.Remove"/> of its address.
/// </summary>
public sealed class MovedMemberTableTests : IAsyncLifetime
{
    private readonly TempDir _dir = new();
    private LsmStore _store = null!;
    private KvState _state = null!;
    private long _index;

    public async Task InitializeAsync()
    {
        _store = await LsmStore.OpenAsync(new LsmOptions { Directory = Path.Combine(_dir.Path, "lsm"), BackgroundWork = false });
        await RestoreAsync();
    }

    public async Task DisposeAsync()
    {
        _state.Dispose();
        await _store.DisposeAsync();
        _dir.Dispose();
    }

    [Fact]
    public async Task MovedRecordsAreKeptApartFromLearnersSurviveARestartAndEndWhenTheMemberIsBack()
    {
        await ApplyAsync(LearnerChangeKind.Upsert, 9, "127.0.0.1:7009");
        await ApplyAsync(LearnerChangeKind.Moved, 2, "127.0.0.1:7102");
        await ApplyAsync(LearnerChangeKind.Moved, 2, "127.0.0.1:7202"); // moved again before it was back: replaced
        await ApplyAsync(LearnerChangeKind.Moved, 3, "127.0.0.1:7103");

        Assert.Equal([9L], _state.Learners.Members.Select(m => m.Id));
        Assert.Equal([("127.0.0.1:7103", 3L), ("127.0.0.1:7202", 2L)], _state.Learners.Moved.Select(m => (m.RaftAddress, m.Id)));
        Assert.All(_state.Learners.Moved, m => Assert.False(m.IsLearner));
        Assert.Equal("127.0.0.1:50002", _state.Learners.FindMoved("127.0.0.1:7202")!.GrpcAddress);

        _state.Dispose();
        await RestoreAsync(); // the records are in the store: a restart lists the same
        Assert.Equal([9L], _state.Learners.Members.Select(m => m.Id));
        Assert.Equal([("127.0.0.1:7103", 3L), ("127.0.0.1:7202", 2L)], _state.Learners.Moved.Select(m => (m.RaftAddress, m.Id)));

        await ApplyAsync(LearnerChangeKind.Promoted, 2, "127.0.0.1:7202"); // back, a voter at its new address
        await ApplyAsync(LearnerChangeKind.Remove, 3, "127.0.0.1:7103");   // removed before it was back
        Assert.Empty(_state.Learners.Moved);
        Assert.Equal([9L], _state.Learners.Members.Select(m => m.Id));

        _state.Dispose();
        await RestoreAsync();
        Assert.Empty(_state.Learners.Moved);
    }

    private async Task RestoreAsync()
        => _state = await KvState.RestoreAsync(_store, PhysicalFileSystem.Instance, Path.Combine(_dir.Path, "snapshots"), NullLogger.Instance, TimeProvider.System, CancellationToken.None);

    private async Task ApplyAsync(LearnerChangeKind kind, long id, string raft)
    {
        var change = new LearnerChange(kind, id, raft, $"127.0.0.1:5000{id}", $"127.0.0.1:808{id}");
        var command = new KvCommand(CommandKind.Learner, 1000 + _index, null, null, Learner: change);
        await _state.ApplyEntryAsync(++_index, 1, false, CommandCodec.Encode(command), null, CancellationToken.None);
    }
}
