using Microsoft.Playwright;

namespace RaftKv.Dashboard.Tests;

/// <summary>Screenshots of the dashboard with auth on (laptop 1280×800): the sign-in form, the key browser as a
/// read-only user (no Maintenance page, no write button), root's Maintenance page after a compaction and a snapshot
/// save, and root's Users &amp; roles page. Written
/// like <see cref="ScreenshotTests"/>' (also to docs/images/ with <c>RAFTKV_UPDATE_SCREENSHOTS=1</c>).</summary>
public sealed class AuthScreenshotTests(AuthDashboardCluster fx) : IClassFixture<AuthDashboardCluster>
{
    [Fact]
    public async Task Sign_in_and_role_aware_pages_can_be_captured()
    {
        var node = await fx.Inner.FollowerAsync();
        var dir = Path.Combine(AppContext.BaseDirectory, "screenshots");
        Directory.CreateDirectory(dir);

        await using (var w = await fx.Inner.Browser.OpenAsync())
        {
            await w.Page.GotoAsync($"{node.Http}/ui/#/keys?prefix=signed%2F&key=signed%2Fin");
            await Assertions.Expect(w.Page.Locator("form#login")).ToBeVisibleAsync();
            await w.Page.GetByLabel("User name").FillAsync("viewer");
            await ScreenshotTests.SaveAsync(w.Page, dir, "sign-in");
            await AuthLoginTests.SignInAsync(w.Page, "viewer", AuthDashboardCluster.ViewerPassword);
            await Assertions.Expect(w.Page.Locator("#read-only-note")).ToBeVisibleAsync();
            await Assertions.Expect(w.Page.Locator("nav a[data-page=maintenance]")).ToBeHiddenAsync();
            await ScreenshotTests.SaveAsync(w.Page, dir, "keys-read-only");
            w.AssertNoErrorsExcept("viewer screenshots", AuthLoginTests.IsExpected401);
        }

        await using (var w = await fx.Inner.Browser.OpenAsync())
        {
            await w.Page.GotoAsync($"{node.Http}/ui/#/maintenance");
            await AuthLoginTests.SignInAsync(w.Page, "root", AuthDashboardCluster.RootPassword);
            await Assertions.Expect(w.Page.Locator("nav a[data-page=maintenance]")).ToBeVisibleAsync();
            await AuthLoginTests.RunCompactionAsync(w.Page);
            await Assertions.Expect(w.Page.Locator("#migration-status")).ToContainTextAsync("Unavailable");
            await w.Page.RunAndWaitForDownloadAsync(() => w.Page.GetByRole(AriaRole.Button, new() { Name = "Save snapshot" }).ClickAsync());
            await Assertions.Expect(w.Page.Locator("#snapshot-result")).ToContainTextAsync("Saved");
            await ScreenshotTests.SaveAsync(w.Page, dir, "maintenance");

            await w.Page.Locator("nav a[data-page=users]").ClickAsync();
            await Assertions.Expect(w.Page.Locator("#users-table tr[data-user=viewer]")).ToContainTextAsync("signed-reader");
            await Assertions.Expect(w.Page.Locator("#roles-table tr[data-role=signed-reader]")).ToContainTextAsync("signed/*");
            await ScreenshotTests.SaveAsync(w.Page, dir, "users");
            w.AssertNoErrorsExcept("root screenshots", AuthLoginTests.IsExpected401);
        }
    }
}
