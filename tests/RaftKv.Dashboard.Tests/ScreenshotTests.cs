using System.Globalization;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Playwright;
using RaftKv.EndToEnd.Tests;

namespace RaftKv.Dashboard.Tests;

/// <summary>
/// Screenshots of every page (laptop 1280×800 and phone 390×844) of a cluster with some data and load.
/// They are written to the test's output directory; with <c>RAFTKV_UPDATE_SCREENSHOTS=1</c>
/// (scripts/dashboard-screenshots.sh) also to docs/images/, which the README shows.
/// </summary>
public sealed class ScreenshotTests(DashboardCluster fx) : IClassFixture<DashboardCluster>
{
    [Fact]
    public async Task Every_page_can_be_captured_on_a_laptop_and_a_phone()
    {
        var leader = await fx.LeaderAsync();
        var node = await fx.FollowerAsync();
        await fx.PutAsync(leader.Http, "app/config", "{\"replicas\":3,\"region\":\"eu-west\",\"features\":[\"tiering\",\"watch\"]}");
        await fx.PutAsync(leader.Http, "app/banner", "Welcome to RaftKv");
        for (var i = 0; i < 12; i++)
        {
            await fx.PutAsync(leader.Http, $"users/{i:D4}", "{\"name\":\"user " + i + "\",\"plan\":\"" + (i % 3 == 0 ? "pro" : "free") + "\"}");
        }

        var dir = Path.Combine(AppContext.BaseDirectory, "screenshots");
        Directory.CreateDirectory(dir);
        using var load = new CancellationTokenSource();
        var loadTask = LoadAsync(node.Http, load.Token); // a few seconds of traffic for the load page's charts
        try
        {
            await using var w = await fx.Browser.OpenAsync();
            await w.Page.GotoAsync($"{node.Http}/ui/#/watch?prefix=users/");
            await Assertions.Expect(w.Page.Locator("#watch-state")).ToHaveAttributeAsync("data-ready", "true");
            await Assertions.Expect(w.Page.Locator("#watch-events li").Nth(4)).ToBeAttachedAsync(new() { Timeout = 60_000 });
            await SaveAsync(w.Page, dir, "watch");

            await Eventually.TrueAsync(async () => await SecondsWithLoadAsync(node.Http) >= 10, TimeSpan.FromSeconds(120), "10 seconds of load samples");
            using (var flush = await fx.Http.PostAsync($"{node.Http}/admin/flush", null)) // something on disk for the storage page
            {
                flush.EnsureSuccessStatusCode();
            }

            foreach (var (page, ready) in new[] { ("cluster", "#members"), ("load?seconds=60", "#load-table"), ("storage", "#levels") })
            {
                await w.Page.GotoAsync($"{node.Http}/ui/#/{page}");
                await Assertions.Expect(w.Page.Locator(ready)).ToBeVisibleAsync();
                await SaveAsync(w.Page, dir, page.Split('?')[0]);
            }

            await w.Page.GotoAsync($"{node.Http}/ui/#/keys?prefix=app/&key=app/config");
            await Assertions.Expect(w.Page.Locator("#value-view")).ToContainTextAsync("replicas");
            await w.Page.GetByLabel("JSON").CheckAsync();
            await SaveAsync(w.Page, dir, "keys");

            await using var phone = await fx.Browser.OpenAsync(390, 844);
            await phone.Page.GotoAsync($"{node.Http}/ui/#/cluster");
            await Assertions.Expect(phone.Page.Locator("#members")).ToBeVisibleAsync();
            await SaveAsync(phone.Page, dir, "cluster-phone");
            w.AssertNoErrors("screenshots");
            phone.AssertNoErrors("phone screenshot");
        }
        finally
        {
            await load.CancelAsync();
            await loadTask;
        }
    }

    /// <summary>How many of the last 30 seconds had operations, per the node's /stats/load.</summary>
    private async Task<int> SecondsWithLoadAsync(string node)
    {
        var load = await fx.Http.GetFromJsonAsync<JsonElement>($"{node}/stats/load?seconds=30");
        return load.GetProperty("operations").EnumerateArray()
            .SelectMany(o => o.GetProperty("points").EnumerateArray())
            .Where(p => p.GetProperty("count").GetInt64() > 0)
            .Select(p => p.GetProperty("t").GetInt64())
            .Distinct()
            .Count();
    }

    internal static async Task SaveAsync(IPage page, string dir, string name)
    {
        await page.EvaluateAsync("document.activeElement && document.activeElement.blur()");
        var bytes = await page.ScreenshotAsync(new() { FullPage = true, Path = Path.Combine(dir, $"dashboard-{name}.png") });
        Assert.NotEmpty(bytes);
        if (Environment.GetEnvironmentVariable("RAFTKV_UPDATE_SCREENSHOTS") == "1")
        {
            await File.WriteAllBytesAsync(Path.Combine(RepoPaths.Root, "docs", "images", $"dashboard-{name}.png"), bytes);
        }
    }

    /// <summary>Puts and gets at a modest rate until cancelled (seed printed; values only).</summary>
    private async Task LoadAsync(string node, CancellationToken ct)
    {
        const int seed = 19;
        Console.WriteLine($"screenshot load seed {seed}");
        var random = new Random(seed);
        while (!ct.IsCancellationRequested)
        {
            try
            {
                var i = random.Next(0, 12).ToString("D4", CultureInfo.InvariantCulture);
                if (random.Next(4) == 0)
                {
                    await fx.PutAsync(node, $"users/{i}", "{\"name\":\"user " + i + "\",\"seen\":" + random.Next() + "}");
                }
                else
                {
                    using var r = await fx.Http.GetAsync($"{node}/kv/users/{i}", ct);
                }

                await Task.Delay(random.Next(5, 40), ct);
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested)
            {
            }
        }
    }
}
