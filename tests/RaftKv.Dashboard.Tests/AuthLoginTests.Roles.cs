using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.Playwright;

namespace RaftKv.Dashboard.Tests;

/// <summary>The role-aware dashboard: after sign-in it asks <c>GET /auth/whoami</c> what the user may do and shows
/// only that — a read-only user gets no Maintenance page and no write button, root gets both; the server still
/// refuses (and the page says so plainly) what a role may not do when a page is reached by its URL.</summary>
public sealed partial class AuthLoginTests
{
    private static readonly string[] EveryoneSees = ["cluster", "load", "storage"];

    [Fact]
    public async Task Whoami_reports_the_users_roles_and_permissions()
    {
        var node = await fx.Inner.FollowerAsync();
        using (var anonymous = await fx.Inner.Http.GetAsync($"{node.Http}/auth/whoami"))
        {
            Assert.Equal(HttpStatusCode.Unauthorized, anonymous.StatusCode);
        }

        var viewer = await WhoamiAsync(node.Http, "viewer", AuthDashboardCluster.ViewerPassword);
        Assert.Equal("viewer", viewer.GetProperty("user").GetString());
        Assert.True(viewer.GetProperty("auth_enabled").GetBoolean());
        Assert.Equal(["signed-reader"], viewer.GetProperty("roles").EnumerateArray().Select(r => r.GetString()));
        Assert.False(viewer.GetProperty("admin").GetBoolean());
        Assert.True(viewer.GetProperty("may_read_keys").GetBoolean());
        Assert.False(viewer.GetProperty("may_write_keys").GetBoolean());
        var p = Assert.Single(viewer.GetProperty("permissions").EnumerateArray());
        Assert.Equal(("signed-reader", "signed/", "signed0", "read"), (p.GetProperty("role").GetString(), p.GetProperty("key").GetString(), p.GetProperty("range_end").GetString(), p.GetProperty("type").GetString()));

        var root = await WhoamiAsync(node.Http, "root", AuthDashboardCluster.RootPassword);
        Assert.True(root.GetProperty("admin").GetBoolean());
        Assert.True(root.GetProperty("may_write_keys").GetBoolean());
        var reader = await WhoamiAsync(node.Http, "reader", AuthDashboardCluster.ReaderPassword);
        Assert.Equal((false, false, false), (reader.GetProperty("admin").GetBoolean(), reader.GetProperty("may_read_keys").GetBoolean(), reader.GetProperty("may_write_keys").GetBoolean()));
    }

    [Fact]
    public async Task A_read_only_user_sees_no_admin_page_and_no_write_button()
    {
        var node = await fx.Inner.FollowerAsync();
        await using var w = await fx.Inner.Browser.OpenAsync();
        await w.Page.GotoAsync($"{node.Http}/ui/#/keys?prefix=signed%2F&key=signed%2Fin");
        await SignInAsync(w.Page, "viewer", AuthDashboardCluster.ViewerPassword);
        await Assertions.Expect(w.Page.Locator("body")).ToHaveAttributeAsync("data-access", "ready");

        foreach (var page in EveryoneSees.Append("keys").Append("watch"))
        {
            await Assertions.Expect(w.Page.Locator($"nav a[data-page={page}]")).ToBeVisibleAsync();
        }

        await Assertions.Expect(w.Page.Locator("nav a[data-page=maintenance]")).ToBeHiddenAsync();
        await Assertions.Expect(w.Page.Locator("#keys-table")).ToContainTextAsync("signed/in");
        await Assertions.Expect(w.Page.Locator("#value-view")).ToContainTextAsync("visible");
        await Assertions.Expect(w.Page.Locator("#read-only-note")).ToBeVisibleAsync();
        await Assertions.Expect(w.Page.Locator("#edit-button, #delete-button, #new-key")).ToHaveCountAsync(0);

        // Reached by its URL, the admin page gets the server's 403, said plainly, and nothing to click.
        await w.Page.GotoAsync($"{node.Http}/ui/#/maintenance");
        await Assertions.Expect(w.Page.Locator("h1")).ToHaveTextAsync("Maintenance");
        await Assertions.Expect(w.Page.Locator("[role=alert].error")).ToContainTextAsync("Your role may not read this");
        await Assertions.Expect(w.Page.Locator("#compaction-button")).ToBeDisabledAsync();
        w.AssertNoErrorsExcept("read-only user", e => IsExpected401(e) || e.Contains("status of 403", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_user_with_no_role_sees_no_key_page()
    {
        var node = await fx.Inner.FollowerAsync();
        await using var w = await fx.Inner.Browser.OpenAsync();
        await w.Page.GotoAsync($"{node.Http}/ui/#/cluster");
        await SignInAsync(w.Page, "reader", AuthDashboardCluster.ReaderPassword);
        await Assertions.Expect(w.Page.Locator("body")).ToHaveAttributeAsync("data-access", "ready");
        await Assertions.Expect(w.Page.Locator("#members tbody tr")).ToHaveCountAsync(3);
        foreach (var page in EveryoneSees)
        {
            await Assertions.Expect(w.Page.Locator($"nav a[data-page={page}]")).ToBeVisibleAsync();
        }

        await Assertions.Expect(w.Page.Locator("nav a[data-page=keys], nav a[data-page=watch], nav a[data-page=maintenance]")).ToHaveCountAsync(3);
        foreach (var hidden in new[] { "keys", "watch", "maintenance" })
        {
            await Assertions.Expect(w.Page.Locator($"nav a[data-page={hidden}]")).ToBeHiddenAsync();
        }

        // Signing out and in as root shows them again (the access is asked again for the new user).
        await w.Page.GetByRole(AriaRole.Button, new() { Name = "Sign out" }).ClickAsync();
        await SignInAsync(w.Page, "root", AuthDashboardCluster.RootPassword);
        await Assertions.Expect(w.Page.Locator("nav a[data-page=maintenance]")).ToBeVisibleAsync();
        await Assertions.Expect(w.Page.Locator("nav a[data-page=keys]")).ToBeVisibleAsync();
        w.AssertNoErrorsExcept("no-role user", IsExpected401);
    }

    [Fact]
    public async Task Root_sees_every_page_and_runs_a_compaction_with_its_progress()
    {
        var node = await fx.Inner.FollowerAsync();
        await using var w = await fx.Inner.Browser.OpenAsync();
        await w.Page.GotoAsync($"{node.Http}/ui/#/keys?prefix=signed%2F&key=signed%2Fin");
        await SignInAsync(w.Page, "root", AuthDashboardCluster.RootPassword);
        await Assertions.Expect(w.Page.Locator("body")).ToHaveAttributeAsync("data-access", "ready");
        await Assertions.Expect(w.Page.Locator("#value-view")).ToContainTextAsync("visible");
        await Assertions.Expect(w.Page.Locator("#edit-button")).ToBeVisibleAsync();
        await Assertions.Expect(w.Page.Locator("#delete-button")).ToBeVisibleAsync();
        await Assertions.Expect(w.Page.Locator("#new-key")).ToBeVisibleAsync();
        await Assertions.Expect(w.Page.Locator("#read-only-note")).ToHaveCountAsync(0);

        await w.Page.Locator("nav a[data-page=maintenance]").ClickAsync();
        await Assertions.Expect(w.Page.Locator("h1")).ToHaveTextAsync("Maintenance");
        await Assertions.Expect(w.Page.Locator("#migration-status")).ToContainTextAsync("Unavailable: no object store"); // no S3 in this cluster
        await Assertions.Expect(w.Page.Locator("#backup-button")).ToBeDisabledAsync();
        await RunCompactionAsync(w.Page);
        await Assertions.Expect(w.Page.Locator(".error:visible")).ToHaveCountAsync(0);
        w.AssertNoErrorsExcept("root", IsExpected401);
    }

    /// <summary>Clicks Compact and waits for its result: the bar full, the counters final, the POST's answer shown.</summary>
    internal static async Task RunCompactionAsync(IPage page)
    {
        await page.GetByRole(AriaRole.Button, new() { Name = "Compact" }).ClickAsync();
        await Assertions.Expect(page.Locator("#compaction-bar")).ToBeVisibleAsync();
        await Assertions.Expect(page.Locator("#compaction-result")).ToHaveTextAsync(new Regex(@"^Compacted: \d+ SSTables before, \d+ after\.$"), new() { Timeout = 60_000 });
        await Assertions.Expect(page.Locator("#compaction-status")).ToHaveTextAsync(new Regex(@"^Last run done: (\d+) of \1 levels"));
        Assert.True(await page.EvaluateAsync<bool>("() => { const b = document.getElementById('compaction-bar'); return b.value === b.max && b.max > 0; }"), "the bar ends full");
        await Assertions.Expect(page.Locator("#compaction-button")).ToBeEnabledAsync();
    }

    private async Task<JsonElement> WhoamiAsync(string node, string user, string password)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, $"{node}/auth/whoami");
        request.Headers.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes($"{user}:{password}")));
        using var response = await fx.Inner.Http.SendAsync(request);
        response.EnsureSuccessStatusCode();
        return await response.Content.ReadFromJsonAsync<JsonElement>();
    }
}
