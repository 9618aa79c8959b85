using Microsoft.Playwright;

namespace RaftKv.Dashboard.Tests;

public sealed partial class DashboardPagesTests
{
    /// <summary>The storage page shows the block cache fields /stats returns (capacity, size, blocks, hit
    /// rate, evictions, promotions, S3 read requests and bytes).</summary>
    [Fact]
    public async Task Storage_page_shows_the_block_cache()
    {
        var node = await fx.FollowerAsync();
        await using var w = await fx.Browser.OpenAsync();
        await w.Page.GotoAsync($"{node.Http}/ui/#/storage");
        var cache = w.Page.Locator("#st-cache");
        await Assertions.Expect(cache).ToBeVisibleAsync();
        foreach (var label in new[] { "Hit rate", "Hits / misses", "Size / capacity", "Blocks cached", "Evictions", "Promotions", "S3 reads (requests / bytes)" })
        {
            await Assertions.Expect(cache.Locator("dt", new() { HasTextString = label })).ToHaveCountAsync(1);
        }

        // Values, not placeholders: each is a number (with a unit for sizes) from /stats.
        await Assertions.Expect(w.Page.Locator("#cache-size")).ToHaveTextAsync(new System.Text.RegularExpressions.Regex(@"^\d[\d.,]* [KMGT]?i?B / \d[\d.,]* [KMGT]?i?B$"));
        await Assertions.Expect(w.Page.Locator("#cache-blocks")).ToHaveTextAsync(new System.Text.RegularExpressions.Regex(@"^\d[\d,]*$"));
        await Assertions.Expect(w.Page.Locator("#cache-evictions")).ToHaveTextAsync(new System.Text.RegularExpressions.Regex(@"^\d[\d,]*$"));
        await Assertions.Expect(w.Page.Locator("#cache-promotions")).ToHaveTextAsync(new System.Text.RegularExpressions.Regex(@"^\d[\d,]*$"));
        await Assertions.Expect(w.Page.Locator("#object-reads")).ToHaveTextAsync(new System.Text.RegularExpressions.Regex(@"^\d[\d,]* / \d[\d.,]* [KMGT]?i?B$"));
        w.AssertNoErrors("storage page");
    }
}
