// The dashboard index with 20 000 applications in Chromium (Playwright for .NET): one request per page of
// applications, sparklines included, and a page that keeps answering.
using System.Net;
using System.Text;
using Microsoft.Playwright;

namespace Lookout.EndToEnd.Tests;

[Collection("browsers")]
public sealed class DashboardScaleTests(EndToEndFixture fixture)
{
    private const int Apps = 20_000;

    [SkippableFact]
    public async Task The_index_with_20000_applications_loads_a_page_in_one_request_and_stays_responsive()
    {
        Browsers.Require(Browsers.Chromium);
        await using var lookout = await LookoutProcess.StartAsync(fixture.Certificates, new Dictionary<string, string>
        {
            // The seeding creates every application at once from one address.
            ["Lookout__Apps__MaxNewPerMinute"] = "0",
            ["Lookout__RateLimits__PerClient__Enabled"] = "false",
        });
        using (var http = new HttpClient { BaseAddress = new Uri(lookout.BaseUrl) })
        {
            var next = -1;
            await Task.WhenAll(Enumerable.Range(0, 16).Select(_ => Task.Run(async () =>
            {
                for (var i = Interlocked.Increment(ref next); i < Apps; i = Interlocked.Increment(ref next))
                {
                    using var content = new StringContent($$$"""{"csp-report":{"document-uri":"https://s{{{i}}}.example/","blocked-uri":"inline","violated-directive":"script-src"}}""", Encoding.UTF8, "application/csp-report");
                    using var response = await http.PostAsync($"/r/app-{i:D5}", content);
                    Assert.Equal(HttpStatusCode.NoContent, response.StatusCode);
                }
            })));
        }

        using var playwright = await Playwright.CreateAsync();
        await using var browser = await Browsers.LaunchPlaywrightChromiumAsync(playwright);
        var page = await browser.NewPageAsync();
        var apiRequests = new List<string>();
        page.Request += (_, request) => { if (request.Url.Contains("/api/", StringComparison.Ordinal)) lock (apiRequests) apiRequests.Add(request.Url); };
        var errors = new List<string>();
        page.PageError += (_, message) => errors.Add(message);

        await page.GotoAsync(lookout.BaseUrl + "/");
        await page.WaitForSelectorAsync("body[data-apps='100']", new PageWaitForSelectorOptions { State = WaitForSelectorState.Attached });
        string[] firstLoad;
        lock (apiRequests) firstLoad = [.. apiRequests];
        // One request for the first page and its sparklines, not one per application.
        Assert.Single(firstLoad);
        Assert.Contains("/api/apps?limit=100&sparkline=24h", firstLoad[0], StringComparison.Ordinal);
        Assert.Equal(100, await page.Locator("#apps tbody tr").CountAsync());
        Assert.Equal(100, await page.Locator("#apps tbody svg.spark polyline").CountAsync());
        Assert.Equal("app-00000", await page.GetAttributeAsync("#apps tbody tr:first-child", "data-app"));

        // The next page on demand, again one request.
        await page.ClickAsync("#more");
        await page.WaitForSelectorAsync("body[data-apps='200']", new PageWaitForSelectorOptions { State = WaitForSelectorState.Attached });
        Assert.Equal("app-00199", await page.GetAttributeAsync("#apps tbody tr:last-child", "data-app"));
        lock (apiRequests) Assert.Equal(2, apiRequests.Count(u => u.Contains("/api/apps?", StringComparison.Ordinal)));

        // Responsive: the page's script answers at once and the tab holds what it shows, not 20 000 charts.
        Assert.Equal(2, await page.EvaluateAsync<int>("() => 1 + 1"));
        Assert.Equal(200, await page.EvaluateAsync<int>("() => document.querySelectorAll('#apps tbody tr').length"));
        Assert.Empty(errors);
    }
}
