namespace RaftKv.Replication.Tests;

/// <summary>A data directory keeps the Raft log engine it was created with.</summary>
public sealed class LogEngineTests
{
    [Theory]
    [InlineData(RaftLogEngine.DotNext, RaftLogEngine.RaftKv, "RAFT_LOG=dotnext")]
    [InlineData(RaftLogEngine.RaftKv, RaftLogEngine.DotNext, "RAFT_LOG=raftkv")]
    public async Task OpeningWithTheOtherEngineIsRefusedWithAClearError(RaftLogEngine created, RaftLogEngine reopened, string hint)
    {
        await using var c = await TestCluster.StartAsync(1, created);
        await c.WaitForLeaderAsync();
        await c.PutAsync("k", "v");
        await c.StopNodeAsync(1);

        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => c.StartNodeAsync(1, reopened));
        Assert.Contains(hint, error.Message, StringComparison.Ordinal);

        await c.StartNodeAsync(1, created); // the right engine still opens it, data intact
        await c.WaitForLeaderAsync();
        var entry = await c.Running.Single().GetAsync("k"u8.ToArray(), Api.ReadConsistency.Linearizable);
        Assert.Equal("v"u8.ToArray(), entry!.Value.Value.ToArray());
    }
}
