using System.Text.RegularExpressions;
using Microsoft.Playwright;

namespace RaftKv.Dashboard.Tests;

public sealed partial class DashboardPagesTests
{
    /// <summary>
    /// The Maintenance page follows a run it did not start until it ends: a node starts archiver passes by itself
    /// (disk pressure, at every table change) and backups on schedule, so the page may load, or end its own run,
    /// while another run is in progress. It used to read the progress once then, and showed "Running" of a run that
    /// had long ended (MaintenanceProgressTests failed so: "Running: 3 of 6 tables" for 30 s). The node's progress
    /// answers are scripted here (routes in the browser), so what the page reads, and when, is fixed.
    /// </summary>
    [Fact]
    public async Task Maintenance_follows_a_run_it_did_not_start_until_it_ends()
    {
        var node = await fx.FollowerAsync();
        await using var w = await fx.Browser.OpenAsync();
        var progress = new ScriptedProgress(tables: 3);
        await w.Page.RouteAsync("**/admin/migrate/progress", route => route.FulfillAsync(new() { Status = 200, ContentType = "application/json", Body = progress.Next() }));
        await w.Page.RouteAsync("**/admin/migrate", async route =>
        {
            progress.AnotherPass(tables: 5); // started as the page's own pass ends
            await route.FulfillAsync(new() { Status = 200, ContentType = "application/json", Body = "{\"tables_migrated\":2,\"bytes_uploaded\":2048}" });
        });

        // Loaded during a background pass: followed until it ends.
        await w.Page.GotoAsync($"{node.Http}/ui/#/maintenance");
        await Assertions.Expect(w.Page.Locator("#migration-status")).ToHaveTextAsync("Last run done: 3 of 3 tables · 3.00 KiB of 3.00 KiB");
        Assert.True(progress.Served > ScriptedProgress.RunningAnswers, $"the page read the progress {progress.Served} time(s)");

        // Loaded with nothing running, then a run of its own, and another pass starting as it ends: followed too.
        await w.Page.ReloadAsync();
        await Assertions.Expect(w.Page.Locator("#migration-status")).ToHaveTextAsync("Last run done: 3 of 3 tables · 3.00 KiB of 3.00 KiB");
        await w.Page.GetByRole(AriaRole.Button, new() { Name = "Archive to S3" }).ClickAsync();
        await Assertions.Expect(w.Page.Locator("#migration-result")).ToHaveTextAsync(new Regex(@"^Archived 2 table\(s\), 2.00 KiB uploaded\.$"));
        await Assertions.Expect(w.Page.Locator("#migration-status")).ToHaveTextAsync("Last run done: 5 of 5 tables · 5.00 KiB of 5.00 KiB");
        w.AssertNoErrors("maintenance following runs");
    }

    /// <summary>/admin/migrate/progress as a node under disk pressure answers it: a background pass of
    /// <c>tables</c> running for <see cref="RunningAnswers"/> answers, then done.</summary>
    private sealed class ScriptedProgress(int tables)
    {
        public const int RunningAnswers = 3;
        private readonly Lock _lock = new();
        private int _sincePassStarted;
        private int _tables = tables;

        public int Served { get; private set; }

        public void AnotherPass(int tables)
        {
            lock (_lock)
            {
                (_sincePassStarted, _tables) = (0, tables);
            }
        }

        public string Next()
        {
            lock (_lock)
            {
                Served++;
                var running = _sincePassStarted++ < RunningAnswers;
                var (state, done) = running ? ("running", 1) : ("done", _tables);
                var finished = running ? "null" : "\"2026-01-01T00:00:01.0000000Z\"";
                return $$"""
                    {"operation":"migration","node_id":2,"state":"{{state}}","unit":"tables","done":{{done}},"total":{{_tables}},"bytes_done":{{done * 1024}},"bytes_total":{{_tables * 1024}},"started":"2026-01-01T00:00:00.0000000Z","finished":{{finished}},"error":null,"backup_id":null,"reused":0}
                    """;
            }
        }
    }
}
