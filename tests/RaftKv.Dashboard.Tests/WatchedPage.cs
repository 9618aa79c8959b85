using System.Collections.Concurrent;
using Microsoft.Playwright;

namespace RaftKv.Dashboard.Tests;

/// <summary>A browser page whose console errors and uncaught exceptions are collected for assertions.</summary>
internal sealed class WatchedPage : IAsyncDisposable
{
    private readonly IBrowserContext _context;
    private readonly ConcurrentQueue<string> _errors = new();

    public WatchedPage(IBrowserContext context, IPage page)
    {
        _context = context;
        Page = page;
        page.Console += (_, m) =>
        {
            if (m.Type == "error")
            {
                _errors.Enqueue($"console.error: {m.Text} ({m.Location})");
            }
        };
        page.PageError += (_, e) => _errors.Enqueue("uncaught: " + e);
        page.RequestFailed += (_, r) =>
        {
            // A stream or poll cut short by navigation is not a failure of the page.
            if (r.Failure is not { } f || !f.Contains("ERR_ABORTED", StringComparison.Ordinal))
            {
                _errors.Enqueue($"request failed: {r.Method} {r.Url}: {r.Failure}");
            }
        };
    }

    public IPage Page { get; }

    public IReadOnlyCollection<string> Errors => [.. _errors];

    public void AssertNoErrors(string where) => Assert.True(_errors.IsEmpty, $"{where}: the page reported errors:\n{string.Join('\n', _errors)}");

    /// <summary>As <see cref="AssertNoErrors"/>, ignoring the errors <paramref name="expected"/> accepts
    /// (e.g. Chromium's "Failed to load resource … 401" for the call that shows the login form).</summary>
    public void AssertNoErrorsExcept(string where, Func<string, bool> expected)
    {
        var unexpected = _errors.Where(e => !expected(e)).ToArray();
        Assert.True(unexpected.Length == 0, $"{where}: the page reported errors:\n{string.Join('\n', unexpected)}");
    }

    public async ValueTask DisposeAsync() => await _context.CloseAsync();
}
