using System.Text.RegularExpressions;
using Microsoft.Playwright;
using RaftKv.EndToEnd.Tests.Etcd;
using Xunit.Abstractions;

namespace RaftKv.Dashboard.Tests;

/// <summary>
/// The dashboard in a real headless Chromium against a real 3-node cluster, through a follower (the
/// dashboard works through any node): every page renders without console errors, a key written through
/// the API shows in the key browser, an edit and a delete made in the browser are what etcdctl reads,
/// the watch page streams changes, the load page charts the node's operations.
/// </summary>
public sealed partial class DashboardPagesTests(DashboardCluster fx, ITestOutputHelper output) : IClassFixture<DashboardCluster>
{
    /// <summary>Each page and the element that shows it rendered its data.</summary>
    public static TheoryData<string, string> Pages => new()
    {
        { "cluster", "#members" },
        { "load", "#load-table, #load-empty" },
        { "storage", "#levels" },
        { "keys", "#keys-table, #no-keys" },
        { "watch", "#watch-state" },
        { "maintenance", "#compaction-status" },
        { "users", "#users-table" },
    };

    [Theory]
    [MemberData(nameof(Pages))]
    public async Task Page_renders_without_console_errors(string page, string rendered)
    {
        var node = await fx.FollowerAsync();
        await fx.PutAsync(node.Http, "render/" + page, "{\"page\":\"" + page + "\"}");
        await using var w = await fx.Browser.OpenAsync();
        var started = System.Diagnostics.Stopwatch.StartNew();
        var response = await w.Page.GotoAsync($"{node.Http}/ui/#/{page}");
        Assert.Equal(200, response!.Status);
        await Assertions.Expect(w.Page.Locator(rendered).First).ToBeVisibleAsync();
        output.WriteLine($"page {page}: data rendered {started.ElapsedMilliseconds} ms after navigation (measured, not asserted)");
        await Assertions.Expect(w.Page.Locator("h1")).ToHaveCountAsync(1);
        await Assertions.Expect(w.Page.Locator($"nav a[data-page={page}]")).ToHaveAttributeAsync("aria-current", "page");
        if (page is "cluster" or "load" or "storage")
        {
            await Assertions.Expect(w.Page.Locator(".updated")).ToHaveTextAsync(UpdatedAt());
        }

        await Assertions.Expect(w.Page.Locator("body")).ToHaveAttributeAsync("data-access", "ready");
        await Assertions.Expect(w.Page.Locator("nav a")).ToHaveCountAsync(7);
        await Assertions.Expect(w.Page.Locator("nav li[hidden]")).ToHaveCountAsync(0); // auth off: every page is shown
        await Assertions.Expect(w.Page.Locator("#node-badge")).ToContainTextAsync($"node {node.NodeId}");
        await Assertions.Expect(w.Page.Locator(".error:visible")).ToHaveCountAsync(0);
        var unlabelled = await w.Page.EvaluateAsync<string[]>(UnlabelledControls);
        Assert.True(unlabelled.Length == 0, $"page {page}: controls without an accessible name: {string.Join(", ", unlabelled)}");
        w.AssertNoErrors($"page {page}");
    }

    [Fact]
    public async Task Cluster_page_lists_every_member_with_its_role()
    {
        var leader = await fx.LeaderAsync();
        var node = await fx.FollowerAsync();
        await using var w = await fx.Browser.OpenAsync();
        await w.Page.GotoAsync($"{node.Http}/ui/#/cluster");
        await Assertions.Expect(w.Page.Locator("#leader-id")).ToHaveAttributeAsync("data-leader", leader.NodeId.ToString(System.Globalization.CultureInfo.InvariantCulture));
        await Assertions.Expect(w.Page.Locator("#members tbody tr")).ToHaveCountAsync(3);
        await Assertions.Expect(w.Page.Locator($"#member-{leader.NodeId} td[data-role]")).ToHaveAttributeAsync("data-role", "leader");
        await Assertions.Expect(w.Page.Locator($"#member-{node.NodeId} td[data-role]")).ToHaveAttributeAsync("data-role", "follower");
        w.AssertNoErrors("cluster page");
    }

    [Fact]
    public async Task A_key_written_through_the_API_appears_in_the_key_browser()
    {
        var prefix = "browse-" + Guid.NewGuid().ToString("N")[..8] + "/";
        var leader = await fx.LeaderAsync();
        for (var i = 0; i < 30; i++) // more than one page (25 keys a page)
        {
            await fx.PutAsync(leader.Http, $"{prefix}k{i:D2}", "{\"n\":" + i + "}");
        }

        var node = await fx.FollowerAsync();
        await using var w = await fx.Browser.OpenAsync();
        await w.Page.GotoAsync($"{node.Http}/ui/#/keys");
        await w.Page.GetByLabel("Key prefix").FillAsync(prefix);
        await w.Page.GetByLabel("Key prefix").PressAsync("Enter");
        // The unfiltered listing shown first may have 25 rows too (other tests' keys): wait for this prefix's.
        await Assertions.Expect(w.Page.Locator("#keys-table tbody tr .key-link").First).ToHaveAttributeAsync("data-key", $"{prefix}k00");
        await Assertions.Expect(w.Page.Locator("#keys-table tbody tr")).ToHaveCountAsync(25);
        await w.Page.Locator("#next-page").ClickAsync();
        await Assertions.Expect(w.Page.Locator("#keys-table tbody tr .key-link").First).ToHaveAttributeAsync("data-key", $"{prefix}k25");
        await Assertions.Expect(w.Page.Locator("#keys-table tbody tr")).ToHaveCountAsync(5);
        var key = $"{prefix}k29";
        await w.Page.Locator($"button.key-link[data-key='{key}']").ClickAsync();
        await Assertions.Expect(w.Page.Locator("#detail-key")).ToHaveTextAsync(key);
        await Assertions.Expect(w.Page.Locator("#value-view")).ToHaveTextAsync("{\"n\":29}");
        await w.Page.GetByLabel("JSON").CheckAsync();
        await Assertions.Expect(w.Page.Locator("#value-view")).ToHaveTextAsync("{\n  \"n\": 29\n}");
        await w.Page.GetByLabel("Hex").CheckAsync();
        await Assertions.Expect(w.Page.Locator("#value-view")).ToContainTextAsync("7b 22 6e 22 3a 32 39 7d");
        w.AssertNoErrors("keys page");
    }

    [Fact]
    public async Task An_edit_and_a_delete_made_in_the_browser_are_what_etcdctl_reads()
    {
        var key = "edit-" + Guid.NewGuid().ToString("N")[..8];
        var leader = await fx.LeaderAsync();
        await fx.PutAsync(leader.Http, key, "before");
        var node = await fx.FollowerAsync();
        await using var w = await fx.Browser.OpenAsync();
        await w.Page.GotoAsync($"{node.Http}/ui/#/keys?key={Uri.EscapeDataString(key)}");
        await Assertions.Expect(w.Page.Locator("#value-view")).ToHaveTextAsync("before");
        await w.Page.Locator("#edit-button").ClickAsync();
        await w.Page.GetByLabel("Value", new() { Exact = true }).FillAsync("edited in the browser");
        await w.Page.Locator("#save-button").ClickAsync();
        await Assertions.Expect(w.Page.Locator("#toast")).ToContainTextAsync($"Saved {key}");
        await Assertions.Expect(w.Page.Locator("#value-view")).ToHaveTextAsync("edited in the browser");

        var get = (await Etcdctl.RunAsync(fx.Endpoints, "get", key, "--print-value-only")).Ok();
        Assert.Equal("edited in the browser", get.Out.TrimEnd('\n'));

        await w.Page.Locator("#delete-button").ClickAsync();
        await Assertions.Expect(w.Page.Locator("#confirm-delete")).ToBeVisibleAsync();
        await w.Page.Locator("#confirm-delete-button").ClickAsync();
        await Assertions.Expect(w.Page.Locator("#toast")).ToContainTextAsync($"Deleted {key}");
        var after = (await Etcdctl.RunAsync(fx.Endpoints, "get", key, "--print-value-only")).Ok();
        Assert.Equal(string.Empty, after.Out.Trim());
        w.AssertNoErrors("keys page (edit, delete)");
    }

    [Fact]
    public async Task A_stale_edit_is_refused_not_overwritten()
    {
        var key = "stale-" + Guid.NewGuid().ToString("N")[..8];
        var leader = await fx.LeaderAsync();
        await fx.PutAsync(leader.Http, key, "first");
        await using var w = await fx.Browser.OpenAsync();
        await w.Page.GotoAsync($"{leader.Http}/ui/#/keys?key={Uri.EscapeDataString(key)}");
        await Assertions.Expect(w.Page.Locator("#value-view")).ToHaveTextAsync("first");
        await w.Page.Locator("#edit-button").ClickAsync();
        await fx.PutAsync(leader.Http, key, "changed meanwhile");
        await w.Page.GetByLabel("Value", new() { Exact = true }).FillAsync("stale edit");
        await w.Page.Locator("#save-button").ClickAsync();
        await Assertions.Expect(w.Page.Locator("#toast")).ToContainTextAsync("changed since you opened it");
        var get = (await Etcdctl.RunAsync(fx.Endpoints, "get", key, "--print-value-only")).Ok();
        Assert.Equal("changed meanwhile", get.Out.TrimEnd('\n'));
    }

    [Fact]
    public async Task The_watch_page_streams_changes_to_a_prefix()
    {
        var prefix = "watch-" + Guid.NewGuid().ToString("N")[..8] + "/";
        var node = await fx.FollowerAsync();
        await using var w = await fx.Browser.OpenAsync();
        await w.Page.GotoAsync($"{node.Http}/ui/#/watch");
        await w.Page.GetByLabel("Key prefix").FillAsync(prefix);
        await w.Page.Locator("#watch-start").ClickAsync();
        await Assertions.Expect(w.Page.Locator("#watch-state")).ToHaveAttributeAsync("data-ready", "true");
        var leader = await fx.LeaderAsync();
        await fx.PutAsync(leader.Http, prefix + "a", "one");
        await fx.PutAsync(leader.Http, "elsewhere-" + prefix, "not watched");
        using (var d = await fx.Http.DeleteAsync($"{leader.Http}/kv/{prefix}a"))
        {
            d.EnsureSuccessStatusCode();
        }

        await Assertions.Expect(w.Page.Locator("#watch-events li")).ToHaveCountAsync(2);
        await Assertions.Expect(w.Page.Locator("#watch-events li").Nth(0)).ToContainTextAsync("DELETE");
        await Assertions.Expect(w.Page.Locator("#watch-events li").Nth(1)).ToContainTextAsync($"PUT {prefix}a");
        await w.Page.Locator("#watch-stop").ClickAsync();
        await Assertions.Expect(w.Page.Locator("#watch-state")).ToHaveTextAsync("Stopped.");
        w.AssertNoErrors("watch page");
    }

    [Fact]
    public async Task The_load_page_charts_the_nodes_operations()
    {
        var node = await fx.FollowerAsync();
        for (var i = 0; i < 20; i++)
        {
            await fx.PutAsync(node.Http, "load/" + i, "x");
        }

        await using var w = await fx.Browser.OpenAsync();
        await w.Page.GotoAsync($"{node.Http}/ui/#/load");
        await Assertions.Expect(w.Page.Locator("#load-table")).ToContainTextAsync("http put");
        await Assertions.Expect(w.Page.Locator("figure.chart-box svg path.line").First).ToBeAttachedAsync();
        await Assertions.Expect(w.Page.GetByRole(AriaRole.Img, new() { Name = "Latency of http put", Exact = false })).ToBeVisibleAsync();
        w.AssertNoErrors("load page");
    }

    /// <summary>Form controls and buttons with no label, aria-label or text (what a screen reader could not name).</summary>
    internal const string UnlabelledControls = """
        () => [...document.querySelectorAll('input, select, textarea, button')]
          .filter((e) => !(e.labels && e.labels.length) && !e.getAttribute('aria-label') && !e.textContent.trim())
          .map((e) => e.outerHTML)
        """;

    [GeneratedRegex("^updated ")]
    private static partial Regex UpdatedAt();
}
