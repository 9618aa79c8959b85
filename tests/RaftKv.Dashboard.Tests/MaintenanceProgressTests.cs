using System.Text.RegularExpressions;
using Microsoft.Playwright;

namespace RaftKv.Dashboard.Tests;

/// <summary>
/// The Maintenance page's long operations against a real cluster archiving to a real S3 server (Ceph RGW),
/// through a follower: "Archive to S3" runs an archiver pass on that node and "Back up now" a backup on the
/// leader (the POST and its progress polls forwarded there); each shows its progress bar and ends with the
/// counters final (done = total) and the server's result.
/// </summary>
public sealed class MaintenanceProgressTests(TieredDashboardCluster fx) : IClassFixture<TieredDashboardCluster>
{
    [Fact]
    public async Task Archive_and_backup_show_their_progress_and_end_with_the_result()
    {
        var leader = await fx.Inner.LeaderAsync();
        var node = await fx.Inner.FollowerAsync();
        for (var i = 0; i < 20; i++)
        {
            await fx.Inner.PutAsync(leader.Http, $"maint/{i:D3}", "{\"n\":" + i + "}");
        }

        await Eventually.TrueAsync(
            async () =>
            {
                using var r = await fx.Inner.Http.GetAsync($"{node.Http}/kv/maint/019?consistency=serializable");
                return r.IsSuccessStatusCode;
            },
            TimeSpan.FromSeconds(60),
            "the follower has the data");
        foreach (var n in new[] { node, leader })
        {
            using var flush = await fx.Inner.Http.PostAsync($"{n.Http}/admin/flush", null); // tables to archive and to back up
            flush.EnsureSuccessStatusCode();
        }

        await using var w = await fx.Inner.Browser.OpenAsync();
        await w.Page.GotoAsync($"{node.Http}/ui/#/maintenance");
        await Assertions.Expect(w.Page.Locator("#migration-status")).ToHaveTextAsync(new Regex("^(Not run|Last run done)"));

        await w.Page.GetByRole(AriaRole.Button, new() { Name = "Archive to S3" }).ClickAsync();
        await Assertions.Expect(w.Page.Locator("#migration-bar")).ToBeVisibleAsync();
        await Assertions.Expect(w.Page.Locator("#migration-result")).ToHaveTextAsync(new Regex(@"^Archived \d+ table\(s\), .+ uploaded\.$"), new() { Timeout = 120_000 });
        await Assertions.Expect(w.Page.Locator("#migration-status")).ToHaveTextAsync(new Regex(@"^Last run done: (\d+) of \1 tables"));

        await w.Page.GetByRole(AriaRole.Button, new() { Name = "Back up now" }).ClickAsync();
        await Assertions.Expect(w.Page.Locator("#backup-bar")).ToBeVisibleAsync();
        await Assertions.Expect(w.Page.Locator("#backup-result")).ToHaveTextAsync(new Regex(@"^Backup \S+ taken: revision \d+, \d+ files, "), new() { Timeout = 120_000 });
        await Assertions.Expect(w.Page.Locator("#backup-status")).ToHaveTextAsync(new Regex(@"^Last run done: ([1-9]\d*) of \1 files · (.+) of \2"));
        Assert.True(await w.Page.EvaluateAsync<bool>("() => { const b = document.getElementById('backup-bar'); return b.value === b.max; }"), "the backup's bar ends full");
        await Assertions.Expect(w.Page.Locator(".error:visible, .op-result.bad")).ToHaveCountAsync(0);
        w.AssertNoErrors("maintenance with S3");
    }
}
