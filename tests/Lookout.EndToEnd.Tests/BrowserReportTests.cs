// Real browsers violate real policies; the reports that reach a running Lookout are checked, normalized.
using System.Text.Json;

namespace Lookout.EndToEnd.Tests;

/// <summary>Certificates, a Lookout process and the test site, shared by the browser tests.</summary>
public sealed class EndToEndFixture : IAsyncLifetime
{
    public TestCertificates Certificates { get; private set; } = null!;
    public LookoutProcess Lookout { get; private set; } = null!;
    public TestSite Site { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        Certificates = TestCertificates.Create();
        Lookout = await LookoutProcess.StartAsync(Certificates);
        Site = await TestSite.StartAsync(Certificates, $"http://lookout.test:{Lookout.HttpPort}", $"https://lookout.test:{Lookout.HttpsPort}");
    }

    public async Task DisposeAsync()
    {
        await Site.DisposeAsync();
        await Lookout.DisposeAsync();
        Certificates.Dispose();
    }
}

/// <summary>A report that must arrive: its type, classification, directive family and blocked host.</summary>
public sealed record Expected(string Type, string Classification, string? DirectivePrefix = null, string? BlockedHost = null)
{
    public bool MatchedBy(JsonElement r)
        => r.GetProperty("type").GetString() == Type
           && r.GetProperty("classification").GetString() == Classification
           && (DirectivePrefix is null || (r.GetProperty("effective_directive").GetString() ?? "").StartsWith(DirectivePrefix, StringComparison.Ordinal))
           && (BlockedHost is null || r.GetProperty("blocked_host").GetString() == BlockedHost);

    public override string ToString() => $"{Type}/{Classification}/{DirectivePrefix}/{BlockedHost}";
}

[CollectionDefinition("browsers", DisableParallelization = true)]
public sealed class BrowserCollection : ICollectionFixture<EndToEndFixture>;

[Collection("browsers")]
public sealed class BrowserReportTests(EndToEndFixture fixture)
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(90);

    // The six violations every page trips, as Lookout must classify them.
    private static readonly Expected[] LegacyViolations =
    [
        new("csp-violation", "inline_style", "style-src"),
        new("csp-violation", "inline_script", "script-src"),
        new("csp-violation", "eval", "script-src"),
        new("csp-violation", "unauthorized_host", "script-src", "cdn.test"),
        new("csp-violation", "unauthorized_host", "img-src", "cdn.test"),
        new("csp-violation", "scheme", "img-src"),
    ];

    private async Task<IReadOnlyList<JsonElement>> VisitAsync(Func<string, TestCertificates, Browsers.Session> start, string url, string app, IReadOnlyList<Expected> expected)
    {
        IReadOnlyList<JsonElement> reports;
        using (start(url, fixture.Certificates))
        {
            reports = await fixture.Lookout.WaitForAsync(app, rs => expected.All(e => rs.Any(e.MatchedBy)), Patience);
        }
        var missing = expected.Where(e => !reports.Any(e.MatchedBy)).ToList();
        Assert.True(missing.Count == 0, $"{app}: missing {string.Join(", ", missing)}; got {string.Join(" | ", reports.Select(Describe))}");
        return reports;
    }

    private static string Describe(JsonElement r) => string.Join("/", new[] { "type", "classification", "effective_directive", "blocked_host", "disposition" }
        .Select(p => r.GetProperty(p).ToString()));

    private static void AssertCommon(IReadOnlyList<JsonElement> reports, string browser, string disposition, string scheme)
    {
        foreach (var r in reports.Where(r => r.GetProperty("type").GetString() == "csp-violation"))
        {
            Assert.Equal("site.test", r.GetProperty("report_host").GetString());
            Assert.StartsWith($"{scheme}://site.test:", r.GetProperty("url").GetString(), StringComparison.Ordinal);
            Assert.Equal(disposition, r.GetProperty("disposition").GetString());
            Assert.Equal(browser, r.GetProperty("browser").GetString());
            Assert.False(r.GetProperty("noise").GetBoolean(), Describe(r));
            Assert.True(int.Parse(r.GetProperty("browser_major").GetString()!, System.Globalization.CultureInfo.InvariantCulture) > 100);
            Assert.Equal("Linux", r.GetProperty("os").GetString());
        }
    }

    [SkippableFact]
    public async Task Chromium_legacy_enforce_reports_are_normalized()
    {
        Browsers.Require(Browsers.Chromium);
        var reports = await VisitAsync(Browsers.StartChromium, $"http://site.test:{fixture.Site.HttpPort}/legacy/enforce?app=chromium-legacy-enforce", "chromium-legacy-enforce", LegacyViolations);
        AssertCommon(reports, "HeadlessChrome", "enforce", "http");
    }

    [SkippableFact]
    public async Task Chromium_legacy_report_only_reports_are_normalized()
    {
        Browsers.Require(Browsers.Chromium);
        var reports = await VisitAsync(Browsers.StartChromium, $"http://site.test:{fixture.Site.HttpPort}/legacy/report?app=chromium-legacy-report", "chromium-legacy-report", LegacyViolations);
        AssertCommon(reports, "HeadlessChrome", "report", "http");
    }

    [SkippableFact]
    public async Task Chromium_reporting_api_batches_arrive_after_preflight()
    {
        Browsers.Require(Browsers.Chromium);
        Expected[] expected =
        [
            new("csp-violation", "inline_style", "style-src"),
            new("csp-violation", "inline_script", "script-src"),
            new("csp-violation", "eval", "script-src"),
            new("csp-violation", "unauthorized_host", "script-src", "cdn.test"),
            new("csp-violation", "scheme", "img-src"),
            new("coep", "corp"),
        ];
        var reports = await VisitAsync(Browsers.StartChromium, $"https://site.test:{fixture.Site.HttpsPort}/reporting?app=chromium-reporting", "chromium-reporting", expected);
        AssertCommon(reports, "HeadlessChrome", "enforce", "https");
        var coep = reports.First(r => r.GetProperty("type").GetString() == "coep");
        Assert.Equal("report", coep.GetProperty("disposition").GetString());
        Assert.Equal("cdn.test", coep.GetProperty("blocked_host").GetString());
    }

    [SkippableFact]
    public async Task Firefox_legacy_enforce_reports_are_normalized()
    {
        Browsers.Require(Browsers.Firefox);
        var reports = await VisitAsync(Browsers.StartFirefox, $"http://site.test:{fixture.Site.HttpPort}/legacy/enforce?app=firefox-legacy-enforce", "firefox-legacy-enforce", LegacyViolations);
        AssertCommon(reports, "Firefox", "enforce", "http");
    }

    [SkippableFact]
    public async Task Firefox_legacy_report_only_reports_are_normalized()
    {
        Browsers.Require(Browsers.Firefox);
        var reports = await VisitAsync(Browsers.StartFirefox, $"http://site.test:{fixture.Site.HttpPort}/legacy/report?app=firefox-legacy-report", "firefox-legacy-report", LegacyViolations);
        AssertCommon(reports, "Firefox", "report", "http");
    }

    [SkippableFact]
    public async Task Firefox_reporting_api_reports_are_normalized()
    {
        Browsers.Require(Browsers.Firefox);
        Expected[] expected =
        [
            new("csp-violation", "inline_style", "style-src"),
            new("csp-violation", "inline_script", "script-src"),
            new("csp-violation", "unauthorized_host", "script-src", "cdn.test"),
            new("csp-violation", "scheme", "img-src"),
        ];
        var reports = await VisitAsync(Browsers.StartFirefox, $"https://site.test:{fixture.Site.HttpsPort}/reporting?app=firefox-reporting", "firefox-reporting", expected);
        AssertCommon(reports, "Firefox", "enforce", "https");
    }
}
