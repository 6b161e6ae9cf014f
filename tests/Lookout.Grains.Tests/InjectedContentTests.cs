// Every row of the known-injection list (injected-content.tsv) is tested through the whole pipeline,
// and so is what was deliberately left out of it.
using System.Text;
using System.Text.Json;
using Lookout.Grains.Counting;
using Lookout.Grains.Reports;
using Lookout.Grains.Reports.Noise;
using Lookout.Grains.Reports.Normalization;

namespace Lookout.Grains.Tests;

public sealed class InjectedContentTests
{
    private static readonly IngestContext Context = new(new DateTimeOffset(2026, 11, 22, 10, 30, 0, TimeSpan.Zero), App: "inject");
    private const string Page = "https://shop.example/products/42";

    public static TheoryData<string, string, string> Rows()
    {
        var data = new TheoryData<string, string, string>();
        foreach (var e in InjectedContentList.Entries) data.Add(e.Reason, e.Field.ToString(), e.Pattern);
        return data;
    }

    private static Report Legacy(string? blocked, string? sourceFile, string? sample, string directive = "script-src-elem")
    {
        var report = new Dictionary<string, object?>
        {
            ["document-uri"] = Page,
            ["effective-directive"] = directive,
            ["violated-directive"] = directive,
            ["original-policy"] = "default-src 'self'; report-uri /r",
            ["blocked-uri"] = blocked,
            ["source-file"] = sourceFile,
            ["script-sample"] = sample,
        };
        var body = JsonSerializer.SerializeToUtf8Bytes(new Dictionary<string, object> { ["csp-report"] = report });
        return Assert.Single(ReportPipeline.Process(body, Context, NormalizationOptions.Default).Reports);
    }

    // Where a URL part goes: after a scheme-less pattern a path is added; a pattern with a scheme starts the URL.
    private static string UrlWith(string pattern)
        => pattern.Contains(':', StringComparison.Ordinal) ? pattern + "x.js" : "https://cdn.thirdparty.example/" + pattern.TrimStart('/') + "/x.js";

    [Theory]
    [MemberData(nameof(Rows))]
    public void Every_row_makes_its_reports_noise_with_its_reason(string reason, string field, string pattern)
    {
        switch (Enum.Parse<InjectedField>(field))
        {
            case InjectedField.Host:
                Assert.Equal(reason, Legacy($"https://{pattern}/a.js", null, null).NoiseReason);
                Assert.Equal(reason, Legacy($"https://www.{pattern}/a.js", null, null).NoiseReason);
                Assert.Equal(reason, Legacy($"https://sub.{pattern}/a.js", null, null).NoiseReason);
                Assert.Equal(reason, Legacy("inline", $"https://{pattern}/loader.js", null).NoiseReason);
                // A host that only ends with the same letters is someone else's.
                Assert.Null(Legacy($"https://not{pattern}/a.js", null, null).NoiseReason);
                break;
            case InjectedField.Url:
                Assert.Equal(reason, Legacy(UrlWith(pattern), null, null).NoiseReason);
                Assert.Equal(reason, Legacy(UrlWith(pattern.ToUpperInvariant()), null, null).NoiseReason);
                Assert.Equal(reason, Legacy("inline", UrlWith(pattern), null).NoiseReason);
                break;
            case InjectedField.Sample:
                // Browsers send the first 40 characters; the page itself as the source is where extensions inject.
                var sample = (pattern + " { }").Length <= 40 ? pattern + " { }" : pattern;
                Assert.Equal(reason, Legacy("inline", Page, sample).NoiseReason);
                Assert.Equal(reason, Legacy("inline", null, sample, "style-src-elem").NoiseReason);
                Assert.Equal(reason, Legacy("inline", "https://cdn.thirdparty.example/widget.js", sample).NoiseReason);
                // From a file the site serves itself (an SVG, a stylesheet): the site's own problem.
                Assert.Null(Legacy("inline", "https://shop.example/static/icons/cart.svg", sample, "style-src-attr").NoiseReason);
                break;
            default:
                Assert.Fail($"unknown field {field}");
                break;
        }
    }

    [Theory]
    // Sentry's default list has these, but sites embed them themselves (a visitor counter, a live chat).
    [InlineData("https://widgets.amung.us/tab.js", null, null)]
    [InlineData("https://siteheart.net/chat.js", null, null)]
    // csp-wtf's parser filters these for one blog; elsewhere they are a site's analytics, tags and CDN.
    [InlineData("https://static.hotjar.com/c/hotjar-730716.js", null, null)]
    [InlineData("https://www.googletagmanager.com/gtm.js", null, null)]
    [InlineData("https://sxt.cdn.skype.com/assets/x.png", null, null)]
    [InlineData("https://1487482361.rsc.cdn77.org/x.js", null, null)]
    [InlineData("https://d1234.cloudfront.net/app.js", null, null)]
    // AngularJS injects its own ng-cloak style; anti-adblock and webpack code is the site's.
    [InlineData("inline", Page, "@charset \"UTF-8\";[ng\\:cloak],[ng-cloak]")]
    [InlineData("inline", Page, "var BlockAdBlock = function(options) {")]
    [InlineData("inline", Page, "__webpack_require__.r(__webpack_exports")]
    // Almost-matches: case matters in code, and a prefix of a pattern is not the pattern.
    [InlineData("inline", Page, ";(function installglobalhook(window)")]
    [InlineData("inline", Page, "@media print {#ghostery")]
    public void What_was_left_out_stays_the_sites_problem(string blocked, string? sourceFile, string? sample)
        => Assert.Null(Legacy(blocked, sourceFile, sample).NoiseReason);

    [Fact]
    public void The_list_is_not_empty_and_has_every_field_and_reason()
    {
        var entries = InjectedContentList.Entries;
        Assert.All(Enum.GetValues<InjectedField>(), f => Assert.Contains(entries, e => e.Field == f));
        foreach (var reason in new[] { NoiseReasons.BrowserExtension, NoiseReasons.DeveloperTool, NoiseReasons.InjectedContent })
            Assert.Contains(entries, e => e.Reason == reason);
        Assert.All(entries, e => Assert.Contains(e.Source, new[] { "sentry", "cspwtf", "zscaler" }));
        // Two rows with one pattern and field would make the second one dead.
        Assert.Equal(entries.Count, entries.Select(e => (e.Field, e.Pattern.ToLowerInvariant())).Distinct().Count());
    }

    [Theory]
    [InlineData("injected_content\thost\texample.net", "line 1")]
    [InlineData("# comment\nspyware\thost\texample.net\tsentry", "unknown reason 'spyware'")]
    [InlineData("injected_content\treferrer\texample.net\tsentry", "unknown field 'referrer'")]
    [InlineData("injected_content\thost\t \tsentry", "line 1")]
    public void A_malformed_row_is_refused_with_its_line(string text, string message)
    {
        var error = Assert.Throws<FormatException>(() => InjectedContentList.Parse(new StringReader(text)));
        Assert.Contains(message, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Nel_reports_count_their_sampling_weight_under_estimated()
    {
        var at = new DateTimeOffset(2026, 11, 22, 10, 30, 0, TimeSpan.Zero);
        var counts = new Dictionary<CountKey, long>();
        CountSource Nel(double? fraction, string? noise = null) => new(at, ReportTypes.NetworkError, null, null, null, "http.error", "api.example",
            null, null, Dispositions.Unknown, noise, null, fraction);
        CountRules.AddTo(Nel(0.3), counts);
        CountRules.AddTo(Nel(0.3), counts);
        CountRules.AddTo(Nel(0.3), counts);
        CountRules.AddTo(Nel(null), counts);
        CountRules.AddTo(Nel(0.01, noise: NoiseReasons.Localhost), counts);
        CountRules.AddTo(new CountSource(at, ReportTypes.CspViolation, "cdn.example", "img-src", "img-src", "unauthorized_host", "shop.example",
            null, null, Dispositions.Enforce, null, null), counts);
        var key = new CountKey(CountRules.Bucket(at), Dimensions.Estimated, "http.error");
        Assert.Equal(3 * 3333 + 1000, counts[key]);
        Assert.Single(counts, kv => kv.Key.Dimension == Dimensions.Estimated);
        Assert.Equal(6, counts[new CountKey(CountRules.Bucket(at), Dimensions.Total, Dimensions.All)]);
        Assert.Equal(11, CountRules.EstimatedReports(counts[key]));
    }

    [Theory]
    [InlineData(1.0, 1000)]
    [InlineData(0.5, 2000)]
    [InlineData(0.01, 100_000)]
    [InlineData(0.75, 1333)]
    [InlineData(null, 1000)]
    [InlineData(0.0, 1000)]
    [InlineData(-1.0, 1000)]
    [InlineData(1.5, 1000)]
    public void A_report_adds_one_over_its_fraction_in_thousandths(double? fraction, long units)
        => Assert.Equal(units, CountRules.EstimatedUnits(fraction));

    [Theory]
    [InlineData("""{"type":"csp","url":"https://a.example/","body":{"blocked":"https://evil.example/e.js","directive":"script-src"}}""", "csp-violation", "evil.example")]
    [InlineData("""{"type":"CSP","url":"https://a.example/","body":{"blocked-uri":"https://evil.example/e.js","effective-directive":"img-src"}}""", "csp-violation", "evil.example")]
    [InlineData("""{"type":"nel","url":"https://a.example/","body":{"type":"dns.name_not_resolved"}}""", "network-error", null)]
    [InlineData("""{"type":"hpkp","url":"https://pinned.example/","body":{"port":443}}""", "hpkp", null)]
    [InlineData("""{"type":"feature-policy-violation","url":"https://a.example/","body":{"featureId":"camera"}}""", "permissions-policy-violation", null)]
    public void Early_draft_type_names_become_todays_types(string entry, string type, string? blockedHost)
    {
        var report = Assert.Single(ReportPipeline.Process(Encoding.UTF8.GetBytes("[" + entry + "]"), Context, NormalizationOptions.Default).Reports);
        Assert.Equal(type, report.Type);
        Assert.Equal(blockedHost, report.BlockedHost);
        using var body = JsonDocument.Parse(report.Body);
        Assert.Equal(type, body.RootElement.GetProperty("type").GetString());
        // "hpkp" kept its name; the others keep the name they were sent with.
        Assert.Equal(type != ReportTypes.Hpkp, body.RootElement.TryGetProperty("reported_type", out _));
        if (type == ReportTypes.Hpkp) Assert.Equal("https://pinned.example/", report.Url);
    }
}
