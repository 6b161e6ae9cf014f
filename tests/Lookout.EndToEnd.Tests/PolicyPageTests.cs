// The policy page in Chromium: the scenario suggested, copied into the draft, and a draft without one
// CDN simulated down to that CDN's report, with a link that opens it.
using System.Net;
using System.Text;
using Microsoft.Playwright;

namespace Lookout.EndToEnd.Tests;

[Collection("browsers")]
public sealed class PolicyPageTests(EndToEndFixture fixture)
{
    private const string Token = "policy-page-test-token";
    private const string Original = "default-src 'self'; report-uri /r/shop";
    private static readonly string Artifacts = Directory.CreateDirectory(Path.Combine(AppContext.BaseDirectory, "artifacts")).FullName;

    private static async Task PostAsync(HttpClient client, string path, string blocked, string directive)
    {
        using var response = await client.PostAsync("/r/shop?enforced=0", new StringContent(
            $$$"""{"csp-report":{"document-uri":"https://shop.example{{{path}}}","blocked-uri":"{{{blocked}}}","effective-directive":"{{{directive}}}","violated-directive":"{{{directive}}}","original-policy":"{{{Original}}}"}}""",
            Encoding.UTF8, "application/csp-report"));
        Assert.Equal(HttpStatusCode.NoContent, response.StatusCode);
    }

    [SkippableFact]
    public async Task Suggests_the_scenario_policy_and_simulates_a_draft_without_one_cdn()
    {
        Browsers.Require(Browsers.Chromium);
        await using var lookout = await LookoutProcess.StartAsync(fixture.Certificates, new Dictionary<string, string> { ["Lookout__AdminToken"] = Token });
        using var http = new HttpClient { BaseAddress = new Uri(lookout.BaseUrl) };
        await PostAsync(http, "/", "https://cdn.one.net/lib.js", "script-src-elem");
        await PostAsync(http, "/cart", "https://cdn.one.net/lib.js", "script-src-elem");
        await PostAsync(http, "/", "https://static.two.com/app.js", "script-src-elem");
        await PostAsync(http, "/checkout", "inline", "script-src-elem");
        await PostAsync(http, "/", "data", "img-src");

        using var playwright = await Playwright.CreateAsync();
        await using var browser = await Browsers.LaunchPlaywrightChromiumAsync(playwright);
        var (page, errors) = await Browsers.OpenPageAsync(browser, 1400, 1000);

        await page.GotoAsync($"{lookout.BaseUrl}/apps/shop/policy?window=7d");
        await Browsers.LogInAsync(page, Token);
        await Browsers.WaitForAsync(page, "body[data-suggested]", errors, "The policy page did not suggest");

        var suggested = await page.InnerTextAsync("#policy");
        Assert.Equal("default-src 'self'; report-uri /r/shop; img-src 'self' data:; script-src 'self' https://cdn.one.net https://static.two.com", suggested);
        Assert.Contains("/checkout", await page.InnerTextAsync("#code"), StringComparison.Ordinal);
        Assert.Contains("https://cdn.one.net", await page.InnerTextAsync("#sources"), StringComparison.Ordinal);
        Assert.Equal(suggested, await page.InputValueAsync("#draft"));
        await page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(Artifacts, "policy-suggest.png"), FullPage = true });

        await page.FillAsync("#draft", suggested.Replace(" https://static.two.com", "", StringComparison.Ordinal));
        await page.ClickAsync("#simulate");
        await page.WaitForSelectorAsync("body[data-simulated]", new PageWaitForSelectorOptions { State = WaitForSelectorState.Attached, Timeout = 30_000 });
        Assert.Equal("5", await page.InnerTextAsync("#sim-reports"));
        // The inline script and static.two.com stay blocked; cdn.one.net and data: are allowed.
        Assert.Equal(("3", "2"), (await page.InnerTextAsync("#sim-allowed"), await page.InnerTextAsync("#sim-blocked")));
        var two = page.Locator("#by-group tr[data-blocked='static.two.com']");
        Assert.Equal("1", await two.Locator("td.still-blocked").InnerTextAsync());
        Assert.Empty(errors);
        await page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(Artifacts, "policy-simulate.png"), FullPage = true });

        await two.Locator("td:last-child a").ClickAsync();
        await Assertions.Expect(page).ToHaveURLAsync(new System.Text.RegularExpressions.Regex("/reports/[0-9a-f-]{36}$"), new PageAssertionsToHaveURLOptions { Timeout = 30_000 });
        await Assertions.Expect(page.Locator("body")).ToContainTextAsync("static.two.com/app.js", new LocatorAssertionsToContainTextOptions { Timeout = 30_000 });
    }
}
