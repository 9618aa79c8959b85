using Microsoft.Playwright;

namespace RaftKv.Dashboard.Tests;

/// <summary>
/// Signing in to the dashboard when auth is on (a real 3-node cluster with auth enabled through etcdctl, a
/// real headless Chromium, through a follower): a data call answered 401 shows the login form, a wrong
/// password is refused with a message, root signs in and sees the cluster page with no console error, an
/// expired or stale token brings the form back, sign out returns to it, and a user whose role may not read a
/// page is told so (403) instead of getting a broken page.
/// </summary>
public sealed partial class AuthLoginTests(AuthDashboardCluster fx) : IClassFixture<AuthDashboardCluster>
{
    [Fact]
    public async Task The_login_form_is_shown_and_a_wrong_password_is_refused()
    {
        var node = await fx.Inner.FollowerAsync();
        await using var w = await fx.Inner.Browser.OpenAsync();
        await w.Page.GotoAsync($"{node.Http}/ui/#/cluster");
        await Assertions.Expect(w.Page.Locator("form#login")).ToBeVisibleAsync();
        await Assertions.Expect(w.Page.Locator("h1")).ToHaveTextAsync("Sign in");
        await Assertions.Expect(w.Page.GetByLabel("User name")).ToBeFocusedAsync(); // focus on the field
        await Assertions.Expect(w.Page.Locator("#members")).ToHaveCountAsync(0);
        await Assertions.Expect(w.Page.Locator("#sign-out")).ToHaveCountAsync(0);
        var unlabelled = await w.Page.EvaluateAsync<string[]>(DashboardPagesTests.UnlabelledControls);
        Assert.True(unlabelled.Length == 0, $"login form: controls without an accessible name: {string.Join(", ", unlabelled)}");

        await w.Page.Keyboard.TypeAsync("root"); // keyboard only: type, Tab, type, Enter
        await w.Page.Keyboard.PressAsync("Tab");
        await Assertions.Expect(w.Page.GetByLabel("Password")).ToBeFocusedAsync();
        await w.Page.Keyboard.TypeAsync("not-the-password");
        await w.Page.Keyboard.PressAsync("Enter");
        await Assertions.Expect(w.Page.Locator("#login-error")).ToHaveTextAsync("Wrong user name or password.");
        await Assertions.Expect(w.Page.Locator("#login-error")).ToHaveAttributeAsync("role", "alert");
        await Assertions.Expect(w.Page.GetByLabel("Password")).ToHaveValueAsync(string.Empty);
        await Assertions.Expect(w.Page.Locator("form#login")).ToBeVisibleAsync();
        w.AssertNoErrorsExcept("login form", IsExpected401);
    }

    [Fact]
    public async Task Root_signs_in_sees_the_cluster_and_signs_out()
    {
        var leader = await fx.Inner.LeaderAsync();
        var node = await fx.Inner.FollowerAsync();
        await using var w = await fx.Inner.Browser.OpenAsync();
        await w.Page.GotoAsync($"{node.Http}/ui/#/cluster");
        await SignInAsync(w.Page, "root", AuthDashboardCluster.RootPassword);

        await Assertions.Expect(w.Page.Locator("#members tbody tr")).ToHaveCountAsync(3);
        await Assertions.Expect(w.Page.Locator("#leader-id")).ToHaveAttributeAsync("data-leader", leader.NodeId.ToString(System.Globalization.CultureInfo.InvariantCulture));
        await Assertions.Expect(w.Page.Locator("h1")).ToHaveTextAsync("Cluster");
        await Assertions.Expect(w.Page.Locator("#signed-in-as")).ToHaveTextAsync("signed in as root");
        await Assertions.Expect(w.Page.Locator(".error:visible")).ToHaveCountAsync(0);

        // Other pages work with the token too: the keys page lists a key, the storage page its stats.
        await w.Page.GotoAsync($"{node.Http}/ui/#/keys?prefix=signed%2F");
        await Assertions.Expect(w.Page.Locator("#keys-table")).ToContainTextAsync("signed/in");
        await w.Page.GotoAsync($"{node.Http}/ui/#/storage");
        await Assertions.Expect(w.Page.Locator("#levels")).ToBeVisibleAsync();
        await Assertions.Expect(w.Page.Locator(".error:visible")).ToHaveCountAsync(0);
        w.AssertNoErrorsExcept("signed in as root", IsExpected401); // the one 401 that showed the form, nothing else

        await w.Page.GetByRole(AriaRole.Button, new() { Name = "Sign out" }).ClickAsync();
        await Assertions.Expect(w.Page.Locator("form#login")).ToBeVisibleAsync();
        await Assertions.Expect(w.Page.Locator("#sign-out")).ToHaveCountAsync(0);
        await Assertions.Expect(w.Page.Locator("#levels")).ToHaveCountAsync(0);
        Assert.Null(await w.Page.EvaluateAsync<string?>("() => sessionStorage.getItem('raftkv.token')"));
    }

    [Fact]
    public async Task A_stale_token_brings_the_form_back_and_a_reload_keeps_a_valid_one()
    {
        var node = await fx.Inner.FollowerAsync();
        await using var w = await fx.Inner.Browser.OpenAsync();
        await w.Page.GotoAsync($"{node.Http}/ui/#/cluster");
        await SignInAsync(w.Page, "root", AuthDashboardCluster.RootPassword);
        await Assertions.Expect(w.Page.Locator("#members tbody tr")).ToHaveCountAsync(3);

        await w.Page.ReloadAsync(); // the token is kept in sessionStorage: no form after a reload
        await Assertions.Expect(w.Page.Locator("#members tbody tr")).ToHaveCountAsync(3);
        await Assertions.Expect(w.Page.Locator("form#login")).ToHaveCountAsync(0);

        // What an expired token looks like to the server: 401 invalid_token on the next refresh.
        await w.Page.EvaluateAsync("() => sessionStorage.setItem('raftkv.token', 'not.a.valid.token')");
        await w.Page.ReloadAsync();
        await Assertions.Expect(w.Page.Locator("form#login")).ToBeVisibleAsync();
        await Assertions.Expect(w.Page.Locator(".page-head .intro")).ToContainTextAsync("expired");
        await SignInAsync(w.Page, "root", AuthDashboardCluster.RootPassword);
        await Assertions.Expect(w.Page.Locator("#members tbody tr")).ToHaveCountAsync(3);
    }

    [Fact]
    public async Task A_user_whose_role_may_not_read_is_told_so()
    {
        var node = await fx.Inner.FollowerAsync();
        await using var w = await fx.Inner.Browser.OpenAsync();
        await w.Page.GotoAsync($"{node.Http}/ui/#/keys?prefix=signed%2F");
        await SignInAsync(w.Page, "reader", AuthDashboardCluster.ReaderPassword);
        await Assertions.Expect(w.Page.Locator("#signed-in-as")).ToHaveTextAsync("signed in as reader");
        await Assertions.Expect(w.Page.Locator("[role=alert].error")).ToContainTextAsync("Your role may not read this");
        await Assertions.Expect(w.Page.Locator("form#login")).ToHaveCountAsync(0); // 403 is not 401: no form
        w.AssertNoErrorsExcept("403 page", e => IsExpected401(e) || e.Contains("status of 403", StringComparison.Ordinal));
    }

    internal static async Task SignInAsync(IPage page, string user, string password)
    {
        await Assertions.Expect(page.Locator("form#login")).ToBeVisibleAsync();
        await page.GetByLabel("User name").FillAsync(user);
        await page.GetByLabel("Password").FillAsync(password);
        await page.GetByRole(AriaRole.Button, new() { Name = "Sign in" }).ClickAsync();
        await Assertions.Expect(page.Locator("form#login")).ToHaveCountAsync(0);
    }

    /// <summary>Chromium logs every 401 response as "Failed to load resource … 401": the one that shows the form is expected.</summary>
    internal static bool IsExpected401(string error) => error.Contains("status of 401", StringComparison.Ordinal);
}
