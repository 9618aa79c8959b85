using Microsoft.Playwright;

namespace RaftKv.Dashboard.Tests;

/// <summary>Screenshots of the dashboard with auth on (laptop 1280×800): the sign-in form, the key browser as a
/// read-only user (no Maintenance page, no write button) and root's Maintenance page after a compaction. Written
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
            await ScreenshotTests.SaveAsync(w.Page, dir, "maintenance");
            w.AssertNoErrorsExcept("root screenshots", AuthLoginTests.IsExpected401);
        }
    }
}
