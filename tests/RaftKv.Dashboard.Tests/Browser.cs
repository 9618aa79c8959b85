using Microsoft.Playwright;

namespace RaftKv.Dashboard.Tests;

/// <summary>
/// Headless Chromium from Debian's <c>chromium</c> package (<see cref="ExecutablePath"/>, installed by
/// .ci/run) driven through Playwright's .NET API — Playwright's own browser download is never used.
/// Missing chromium fails the tests with a message saying how to install it; it never skips them.
/// </summary>
internal sealed class Browser : IAsyncDisposable
{
    public const string ExecutablePath = "/usr/bin/chromium";

    private readonly IPlaywright _playwright;

    private Browser(IPlaywright playwright, IBrowser browser)
    {
        _playwright = playwright;
        Chromium = browser;
    }

    public IBrowser Chromium { get; }

    public static async Task<Browser> LaunchAsync()
    {
        if (!File.Exists(ExecutablePath))
        {
            throw new InvalidOperationException($"{ExecutablePath} is missing: install Debian's chromium package (apt-get install chromium), as .ci/run does");
        }

        // Expectations wait on their condition up to 30 s (not Playwright's 5 s): a sign-in (Argon2, a linearizable
        // read) and a page's first data can take seconds on a loaded 2-core machine. A deadline, not a threshold.
        Assertions.SetDefaultExpectTimeout(30_000);
        var playwright = await Playwright.CreateAsync();
        var browser = await playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = ExecutablePath,
            Headless = true,
            Args = ["--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu"], // root in a container: no sandbox
        });
        return new Browser(playwright, browser);
    }

    /// <summary>A new page (own context) that records console errors and uncaught exceptions.</summary>
    public async Task<WatchedPage> OpenAsync(int width = 1280, int height = 800)
    {
        var context = await Chromium.NewContextAsync(new BrowserNewContextOptions { ViewportSize = new ViewportSize { Width = width, Height = height }, ReducedMotion = ReducedMotion.Reduce });
        context.SetDefaultTimeout(30_000);
        var page = await context.NewPageAsync();
        return new WatchedPage(context, page);
    }

    public async ValueTask DisposeAsync()
    {
        await Chromium.DisposeAsync();
        _playwright.Dispose();
    }
}
