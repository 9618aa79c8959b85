using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.Playwright;

namespace RaftKv.Dashboard.Tests;

/// <summary>Root's admin pages with auth on, through a follower: the Users &amp; roles page manages users, roles and
/// permissions (each change then read back through the HTTP API, and the new user's access through
/// <c>/auth/whoami</c>), its routes refuse a non-root user with 403 JSON; the Maintenance page saves the node's
/// snapshot with the bytes received shown, and the file is a whole snapshot.</summary>
public sealed partial class AuthLoginTests
{
    [Fact]
    public async Task Root_manages_users_roles_and_permissions_in_the_browser()
    {
        var node = await fx.Inner.FollowerAsync();
        await using var w = await fx.Inner.Browser.OpenAsync();
        await w.Page.GotoAsync($"{node.Http}/ui/#/users");
        await SignInAsync(w.Page, "root", AuthDashboardCluster.RootPassword);
        await Assertions.Expect(w.Page.Locator("nav a[data-page=users]")).ToBeVisibleAsync();
        await Assertions.Expect(w.Page.Locator("h1")).ToHaveTextAsync("Users & roles");
        await Assertions.Expect(w.Page.Locator("#users-table tr[data-user=viewer]")).ToContainTextAsync("signed-reader");
        await Assertions.Expect(w.Page.Locator("#roles-table tr[data-role=signed-reader]")).ToContainTextAsync("signed/");

        // A role with a prefix permission, a user, and the role granted to the user: all with the keyboard-reachable forms.
        await w.Page.GetByLabel("Role name").FillAsync("ops-ui");
        await w.Page.GetByRole(AriaRole.Button, new() { Name = "Add role" }).ClickAsync();
        await Assertions.Expect(w.Page.Locator("#roles-table tr[data-role=ops-ui]")).ToContainTextAsync("no permissions");
        await w.Page.Locator("#perm-role").SelectOptionAsync("ops-ui");
        await w.Page.GetByLabel("Key or prefix").FillAsync("ops/");
        await w.Page.Locator("#perm-type").SelectOptionAsync("readwrite");
        await w.Page.GetByRole(AriaRole.Button, new() { Name = "Grant permission" }).ClickAsync();
        await Assertions.Expect(w.Page.Locator("#roles-table tr[data-role=ops-ui]")).ToContainTextAsync("read + write ops/");

        await w.Page.GetByLabel("New user").FillAsync("operator");
        await w.Page.GetByLabel("Their password").FillAsync("operator-Pw-19");
        await w.Page.GetByRole(AriaRole.Button, new() { Name = "Add user" }).ClickAsync();
        await Assertions.Expect(w.Page.Locator("#users-table tr[data-user=operator]")).ToContainTextAsync("no roles");
        await w.Page.Locator("#grant-user").SelectOptionAsync("operator");
        await w.Page.Locator("#grant-role").SelectOptionAsync("ops-ui");
        await w.Page.GetByRole(AriaRole.Button, new() { Name = "Grant role" }).ClickAsync();
        await Assertions.Expect(w.Page.Locator("#users-table tr[data-user=operator]")).ToContainTextAsync("ops-ui");

        // The new user signs in with that password and may write under ops/ (the replicated state, read on the leader).
        var leader = await fx.Inner.LeaderAsync();
        var whoami = await WhoamiAsync(leader.Http, "operator", "operator-Pw-19");
        var granted = Assert.Single(whoami.GetProperty("permissions").EnumerateArray());
        Assert.Equal(("ops-ui", "ops/", "ops0", "readwrite"), (granted.GetProperty("role").GetString(), granted.GetProperty("key").GetString(), granted.GetProperty("range_end").GetString(), granted.GetProperty("type").GetString()));

        // Revoke the permission and the role, then delete the user and the role (each delete confirmed in a dialog).
        await w.Page.GetByRole(AriaRole.Button, new() { Name = "Revoke ops-ui's permission on ops/" }).ClickAsync();
        await Assertions.Expect(w.Page.Locator("#roles-table tr[data-role=ops-ui]")).ToContainTextAsync("no permissions");
        await w.Page.GetByRole(AriaRole.Button, new() { Name = "Revoke role ops-ui from operator" }).ClickAsync();
        await Assertions.Expect(w.Page.Locator("#users-table tr[data-user=operator]")).ToContainTextAsync("no roles");
        await w.Page.GetByRole(AriaRole.Button, new() { Name = "Delete user operator" }).ClickAsync();
        await w.Page.Locator("#confirm-auth-button").ClickAsync();
        await Assertions.Expect(w.Page.Locator("#users-table tr[data-user=operator]")).ToHaveCountAsync(0);
        await w.Page.GetByRole(AriaRole.Button, new() { Name = "Delete role ops-ui" }).ClickAsync();
        await w.Page.Locator("#confirm-auth-button").ClickAsync();
        await Assertions.Expect(w.Page.Locator("#roles-table tr[data-role=ops-ui]")).ToHaveCountAsync(0);

        // etcd's rules hold: root cannot be deleted while auth is on; the refusal is shown, nothing changes.
        await w.Page.GetByRole(AriaRole.Button, new() { Name = "Delete user root" }).ClickAsync();
        await w.Page.Locator("#confirm-auth-button").ClickAsync();
        await Assertions.Expect(w.Page.Locator("#toast")).ToContainTextAsync("Refused");
        await Assertions.Expect(w.Page.Locator("#users-table tr[data-user=root]")).ToHaveCountAsync(1);

        var users = await AsRootAsync<JsonElement>(node.Http, "/auth/users");
        Assert.DoesNotContain("operator", users.GetProperty("users").EnumerateArray().Select(u => u.GetProperty("name").GetString()));
        w.AssertNoErrorsExcept("users page", e => IsExpected401(e) || e.Contains("status of 409", StringComparison.Ordinal));
    }

    [Fact]
    public async Task The_users_page_fits_a_phone()
    {
        var node = await fx.Inner.FollowerAsync();
        await using var w = await fx.Inner.Browser.OpenAsync(390, 844);
        await w.Page.GotoAsync($"{node.Http}/ui/#/users");
        await SignInAsync(w.Page, "root", AuthDashboardCluster.RootPassword);
        await Assertions.Expect(w.Page.Locator("#users-table tr[data-user=root]")).ToBeVisibleAsync();

        // The page itself never scrolls sideways (wide tables scroll inside their own box), and the forms stay usable.
        Assert.True(await w.Page.EvaluateAsync<bool>("() => document.documentElement.scrollWidth <= window.innerWidth"),
            "the users page is wider than a 390 px phone screen");
        foreach (var button in new[] { "Add role", "Add user", "Grant role", "Grant permission" })
        {
            var box = await w.Page.GetByRole(AriaRole.Button, new() { Name = button }).BoundingBoxAsync();
            Assert.True(box is { Width: > 0 } b && b.X >= 0 && b.X + b.Width <= 390, $"'{button}' is off the phone screen");
        }

        w.AssertNoErrorsExcept("users page on a phone", IsExpected401);
    }

    [Fact]
    public async Task Users_and_snapshot_routes_refuse_a_non_root_user_with_403_json()
    {
        var node = await fx.Inner.FollowerAsync();
        foreach (var (method, path, body) in new[] { ("GET", "/auth/users", (string?)null), ("GET", "/auth/roles", null), ("POST", "/auth/users", "{\"name\":\"x\",\"password\":\"y\"}"), ("DELETE", "/auth/roles/signed-reader", null), ("GET", "/admin/snapshot", null) })
        {
            using var request = new HttpRequestMessage(new HttpMethod(method), node.Http + path);
            request.Headers.Authorization = Basic("viewer", AuthDashboardCluster.ViewerPassword);
            if (body is not null)
            {
                request.Content = new StringContent(body, Encoding.UTF8, "application/json");
            }

            using var response = await fx.Inner.Http.SendAsync(request);
            Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
            Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
            var error = await response.Content.ReadFromJsonAsync<JsonElement>();
            Assert.Equal("permission_denied", error.GetProperty("code").GetString());
        }

        var roles = await AsRootAsync<JsonElement>(node.Http, "/auth/roles");
        Assert.Contains("signed-reader", roles.GetProperty("roles").EnumerateArray().Select(r => r.GetProperty("name").GetString()));
    }

    [Fact]
    public async Task Root_saves_the_nodes_snapshot_with_the_bytes_received_shown()
    {
        var node = await fx.Inner.FollowerAsync();
        await using var w = await fx.Inner.Browser.OpenAsync();
        await w.Page.GotoAsync($"{node.Http}/ui/#/maintenance");
        await SignInAsync(w.Page, "root", AuthDashboardCluster.RootPassword);
        var download = await w.Page.RunAndWaitForDownloadAsync(() => w.Page.GetByRole(AriaRole.Button, new() { Name = "Save snapshot" }).ClickAsync());
        Assert.Matches(new Regex($@"^raftkv-{node.NodeId}-\d+\.snapshot$"), download.SuggestedFilename);
        var path = await download.PathAsync();
        var length = new FileInfo(path!).Length;
        Assert.Equal(32, length % 512); // a whole snapshot file (SnapshotFileFormat: padded to 512, then its SHA-256)
        await Assertions.Expect(w.Page.Locator("#snapshot-status")).ToHaveTextAsync(new Regex(@"^Received (.+) of \1 \(100 %\)$"));
        await Assertions.Expect(w.Page.Locator("#snapshot-result")).ToContainTextAsync($"Saved {download.SuggestedFilename}");
        Assert.True(await w.Page.EvaluateAsync<bool>($"() => {{ const b = document.getElementById('snapshot-bar'); return b.max === {length} && b.value === b.max; }}"), "the bar counts the file's bytes and ends full");
        w.AssertNoErrorsExcept("snapshot save", IsExpected401);
    }

    private static AuthenticationHeaderValue Basic(string user, string password) => new("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes($"{user}:{password}")));

    private async Task<T> AsRootAsync<T>(string node, string path)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, node + path);
        request.Headers.Authorization = Basic("root", AuthDashboardCluster.RootPassword);
        using var response = await fx.Inner.Http.SendAsync(request);
        response.EnsureSuccessStatusCode();
        return (await response.Content.ReadFromJsonAsync<T>())!;
    }
}
