using System.Globalization;
using Microsoft.Playwright;

namespace RaftKv.Dashboard.Tests;

/// <summary>The cluster page follows a leader change live (no reload): its own cluster, since it kills a node.</summary>
public sealed class LeaderKillTests(DashboardCluster fx) : IClassFixture<DashboardCluster>
{
    [Fact]
    public async Task The_cluster_page_shows_the_new_leader_after_the_leader_is_killed()
    {
        var old = await fx.LeaderAsync();
        var watcher = await fx.FollowerAsync();
        await using var w = await fx.Browser.OpenAsync();
        await w.Page.GotoAsync($"{watcher.Http}/ui/#/cluster");
        await Assertions.Expect(w.Page.Locator("#leader-id")).ToHaveAttributeAsync("data-leader", Id(old.NodeId));

        old.Kill();
        var elected = await fx.LeaderAsync();
        Assert.NotEqual(old.NodeId, elected.NodeId);
        await Assertions.Expect(w.Page.Locator("#leader-id")).ToHaveAttributeAsync("data-leader", Id(elected.NodeId), new() { Timeout = 60_000 });
        await Assertions.Expect(w.Page.Locator($"#member-{elected.NodeId} td[data-role]")).ToHaveAttributeAsync("data-role", "leader");
        await Assertions.Expect(w.Page.Locator($"#member-{old.NodeId} td[data-role]")).ToHaveAttributeAsync("data-role", "unreachable");
        w.AssertNoErrors("cluster page across a leader change");
    }

    private static string Id(long id) => id.ToString(CultureInfo.InvariantCulture);
}
