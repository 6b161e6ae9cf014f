// The groups on an application's page in Chromium: three problems listed with their counts and "new" badges,
// one resolved with its button, its report sent again, and the group back as open with a "regressed" badge;
// the group page shows its reports; a webhook added on the alerts page lists its deliveries.
using System.Net;
using System.Text;
using Microsoft.Playwright;

namespace Lookout.EndToEnd.Tests;

[Collection("browsers")]
public sealed class GroupsPageTests(EndToEndFixture fixture)
{
    private const string Token = "groups-page-test-token";
    private static readonly string Artifacts = Directory.CreateDirectory(Path.Combine(AppContext.BaseDirectory, "artifacts")).FullName;

    private static async Task PostAsync(HttpClient client, string path, string blocked, string directive)
    {
        using var response = await client.PostAsync("/r/shop", new StringContent(
            $$$"""{"csp-report":{"document-uri":"https://shop.example{{{path}}}","blocked-uri":"{{{blocked}}}","effective-directive":"{{{directive}}}","violated-directive":"{{{directive}}}"}}""",
            Encoding.UTF8, "application/csp-report"));
        Assert.Equal(HttpStatusCode.NoContent, response.StatusCode);
    }

    private static async Task WaitForRefreshAsync(IPage page, string attribute, string? after)
    {
        await page.WaitForFunctionAsync($"prev => document.body.dataset.{attribute} !== undefined && document.body.dataset.{attribute} !== prev", after,
            new PageWaitForFunctionOptions { Timeout = 30_000 });
    }

    [SkippableFact]
    public async Task Groups_resolve_and_regress_on_the_application_page()
    {
        Browsers.Require(Browsers.Chromium);
        await using var lookout = await LookoutProcess.StartAsync(fixture.Certificates, new Dictionary<string, string>
        {
            ["Lookout__AdminToken"] = Token,
            ["Lookout__Alerts__AllowPrivateTargets"] = "true",
            ["Lookout__Alerts__PollInterval"] = "00:00:00.200",
            ["Lookout__Alerts__CoalesceWindow"] = "00:00:00.300",
        });
        using var http = new HttpClient { BaseAddress = new Uri(lookout.BaseUrl) };
        for (var i = 0; i < 4; i++) await PostAsync(http, "/p" + i, "https://cdn.evil.example/x.js", "script-src-elem");
        for (var i = 0; i < 3; i++) await PostAsync(http, "/checkout", "inline", "script-src-elem");
        for (var i = 0; i < 3; i++) await PostAsync(http, "/", "data", "img-src");

        using var playwright = await Playwright.CreateAsync();
        await using var browser = await Browsers.LaunchPlaywrightChromiumAsync(playwright);
        var (page, errors) = await Browsers.OpenPageAsync(browser, 1400, 1100);

        await page.GotoAsync($"{lookout.BaseUrl}/apps/shop");
        await Browsers.LogInAsync(page, Token);
        await Browsers.WaitForAsync(page, "body[data-groups]", errors, "The application page listed no groups");
        var rows = page.Locator("#groups tbody tr");
        Assert.Equal(3, await rows.CountAsync());
        var inline = page.Locator("#groups tbody tr", new PageLocatorOptions { HasText = "script-src-elem blocked inline" });
        Assert.Equal("3", await inline.Locator("td.num").First.InnerTextAsync());
        Assert.Contains("new", await inline.Locator(".badge").InnerTextAsync(), StringComparison.Ordinal);
        Assert.Equal("4", await page.Locator("#groups tbody tr", new PageLocatorOptions { HasText = "cdn.evil.example" }).Locator("td.num").First.InnerTextAsync());
        await page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(Artifacts, "groups-open.png"), FullPage = true });

        // Resolve: the row leaves the "open" list.
        var before = await page.EvaluateAsync<string>("document.body.dataset.groups");
        await inline.Locator("button[data-status=resolved]").ClickAsync();
        await WaitForRefreshAsync(page, "groups", before);
        Assert.Equal(2, await rows.CountAsync());
        await page.SelectOptionAsync("#group-status", "resolved");
        await Assertions.Expect(rows).ToHaveCountAsync(1, new LocatorAssertionsToHaveCountOptions { Timeout = 30_000 });
        Assert.Contains("script-src-elem blocked inline", await rows.First.InnerTextAsync(), StringComparison.Ordinal);

        // The same inline script again: a regression, open with its badge.
        await PostAsync(http, "/checkout", "inline", "script-src-elem");
        await page.SelectOptionAsync("#group-status", "open");
        await Assertions.Expect(rows).ToHaveCountAsync(3, new LocatorAssertionsToHaveCountOptions { Timeout = 30_000 });
        await Assertions.Expect(inline.Locator(".badge.regressed")).ToHaveTextAsync("regressed", new LocatorAssertionsToHaveTextOptions { Timeout = 30_000 });
        Assert.Equal("4", await inline.Locator("td.num").First.InnerTextAsync());
        Assert.Equal("open", await inline.Locator("td.status").InnerTextAsync());
        await page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(Artifacts, "groups-regressed.png"), FullPage = true });

        // The group's own page: its four reports, each opening the report.
        await inline.Locator("td:first-child a").ClickAsync();
        await page.WaitForSelectorAsync("body[data-status]", new PageWaitForSelectorOptions { State = WaitForSelectorState.Attached, Timeout = 30_000 });
        Assert.Equal("open", await page.InnerTextAsync("#status"));
        Assert.Equal(4, await page.Locator("#reports tbody tr").CountAsync());
        Assert.Contains("inline", await page.InnerTextAsync("#key"), StringComparison.Ordinal);
        await page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(Artifacts, "group.png"), FullPage = true });

        // A webhook added on the alerts page, refused for a bad URL first.
        await page.GotoAsync($"{lookout.BaseUrl}/apps/shop/alerts");
        await page.WaitForSelectorAsync("body[data-webhooks]", new PageWaitForSelectorOptions { State = WaitForSelectorState.Attached, Timeout = 30_000 });
        await page.FillAsync("#url", "ftp://nowhere.example/");
        await page.ClickAsync("#add-form button[type=submit]");
        await Assertions.Expect(page.Locator("#error")).ToContainTextAsync("http or https", new LocatorAssertionsToContainTextOptions { Timeout = 30_000 });
        using var receiver = new Lookout.Tests.Shared.WebhookReceiver();
        await page.FillAsync("#url", receiver.Url);
        await page.ClickAsync("#add-form button[type=submit]");
        await Assertions.Expect(page.Locator("[data-webhook]")).ToHaveCountAsync(1, new LocatorAssertionsToHaveCountOptions { Timeout = 30_000 });
        await PostAsync(http, "/", "https://fonts.new.example/f.woff2", "font-src");
        Assert.True(await receiver.WaitForAsync(r => r.Events.Count == 1, TimeSpan.FromSeconds(10)), "the new group's alert");
        await page.ReloadAsync();
        await Assertions.Expect(page.Locator(".deliveries td.status").First).ToHaveTextAsync("delivered", new LocatorAssertionsToHaveTextOptions { Timeout = 30_000 });
        // The refused webhook is the only error: the browser logs its 400.
        Assert.DoesNotContain(errors, e => !e.Contains("400", StringComparison.Ordinal));
        await page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(Artifacts, "alerts.png"), FullPage = true });
    }
}
