// Table-driven tests of the pure URL, directive and blocked-value helpers.
using Lookout.Grains.Reports;
using Lookout.Grains.Reports.Normalization;

namespace Lookout.Grains.Tests;

public sealed class NormalizationHelpersTests
{
    [Theory]
    [InlineData("https://a.example/p?q=secret&page=2#frag", UrlPrivacy.StripQueryValues, "https://a.example/p?q=&page=")]
    [InlineData("https://a.example/p?flag&x=1", UrlPrivacy.StripQueryValues, "https://a.example/p?flag&x=")]
    [InlineData("https://a.example/p?q=1#f", UrlPrivacy.StripQuery, "https://a.example/p")]
    [InlineData("https://a.example/p?q=1#f", UrlPrivacy.KeepQuery, "https://a.example/p?q=1")]
    [InlineData("[anonymised]", UrlPrivacy.StripQueryValues, "[anonymised]")]
    [InlineData("", UrlPrivacy.StripQueryValues, "")]
    public void Scrub_removes_fragments_and_query_values(string input, UrlPrivacy privacy, string expected)
        => Assert.Equal(expected, UrlParts.Scrub(input, privacy));

    [Theory]
    [InlineData("https://WWW.Example.com:8443/x", "example.com")]
    [InlineData("http://notlocalhost:8000/", "notlocalhost")]
    [InlineData("wss://chat.example.org/s", "chat.example.org")]
    [InlineData("bar.example/foo", "bar.example")]
    [InlineData("http://[2001:db8::42]/", "2001:db8::42")]
    [InlineData("about:blank", null)]
    [InlineData("[anonymised]", null)]
    [InlineData("data:image/png;base64,AAAA", null)]
    [InlineData(null, null)]
    public void Host_is_lowercase_without_port_or_www(string? url, string? expected)
        => Assert.Equal(expected, UrlParts.Host(url));

    [Theory]
    [InlineData("img-src", "default-src 'self'", "img-src")]
    [InlineData(null, "default-src self", "default-src")]
    [InlineData(null, "font-src", "font-src")]
    [InlineData(null, "img-src 'self' ", "img-src")]
    [InlineData("bogus", "style-src-elem 'self'", "style-src-elem")]
    [InlineData(null, "inline script base restriction", "script-src")]
    [InlineData(null, "inline style base restriction", "style-src")]
    [InlineData(null, "Script-Src:443 'self'", "script-src")]
    [InlineData(null, null, null)]
    public void Effective_directive_prefers_a_known_effective_directive(string? effective, string? violated, string? expected)
        => Assert.Equal(expected, Directives.Effective(effective, violated));

    [Theory]
    [InlineData(null, "'self'", null)]
    [InlineData("", "'self'", null)]
    [InlineData("self", "'self'", null)]
    [InlineData("'self'", "'self'", null)]
    [InlineData("inline", "inline", null)]
    [InlineData("EVAL", "eval", null)]
    [InlineData("wasm-eval", "wasm-eval", null)]
    [InlineData("trusted-types-sink", "trusted-types-sink", null)]
    [InlineData("data", "data:", null)]
    [InlineData("data:image/gif;base64,R0lG", "data:", null)]
    [InlineData("chrome-extension", "chrome-extension:", null)]
    [InlineData("chrome-extension://abc/x.js", "chrome-extension:", null)]
    [InlineData("filesystem:http://127.0.0.1:4000/media/a.jpg", "filesystem:", null)]
    [InlineData("null", "null", null)]
    [InlineData("https://www.cdn.example.com/a.js?x=1", "cdn.example.com", "cdn.example.com")]
    [InlineData("http://1.1.1.1/bmi/a.png", "1.1.1.1", "1.1.1.1")]
    [InlineData("url-of-blocked-resource.js", "url-of-blocked-resource.js", "url-of-blocked-resource.js")]
    public void Blocked_values_reduce_to_host_scheme_or_keyword(string? raw, string expected, string? host)
    {
        var blocked = BlockedResource.Read(raw);
        Assert.Equal(expected, blocked.Normalized);
        Assert.Equal(host, blocked.Host);
    }
}

public sealed class NoiseRuleTests
{
    private sealed class TableParser(Dictionary<string, UserAgentInfo> table) : Lookout.Grains.Reports.IUserAgentParser
    {
        public UserAgentInfo Parse(string userAgent) => table.GetValueOrDefault(userAgent, UserAgentInfo.Unknown);

        // Never cached: every answer counts as a parse, which is what the budget tests need.
        public bool TryGetCached(string userAgent, out UserAgentInfo info)
        {
            info = UserAgentInfo.Unknown;
            return false;
        }
    }

    private static readonly TableParser Agents = new(new()
    {
        ["old-safari"] = new("Safari", "5", "Mac OS X"),
        ["new-safari"] = new("Safari", "17", "Mac OS X"),
        ["ie"] = new("IE", "11", "Windows"),
        ["chrome"] = new("Chrome", "125", "Windows"),
    });

    private static Lookout.Grains.Reports.Report Read(string json, string? userAgent = null, string? app = "shop", Lookout.Grains.Reports.Noise.NoiseOptions? noise = null)
    {
        var options = NormalizationOptions.Default with { Noise = noise ?? Lookout.Grains.Reports.Noise.NoiseOptions.Default };
        var result = Lookout.Grains.Reports.ReportPipeline.Process(System.Text.Encoding.UTF8.GetBytes(json),
            new Lookout.Grains.Reports.IngestContext(DateTimeOffset.UnixEpoch, userAgent, App: app), options, Agents);
        return Assert.Single(result.Reports);
    }

    private const string Inline = """{"csp-report":{"document-uri":"https://shop.example/","blocked-uri":"inline","violated-directive":"script-src"}}""";
    private const string Ads = """{"csp-report":{"document-uri":"https://shop.example/","blocked-uri":"https://x.ads.example/a.js","violated-directive":"script-src"}}""";

    [Theory]
    [InlineData("old-safari", "legacy_browser")]
    [InlineData("ie", "legacy_browser")]
    [InlineData("new-safari", null)]
    [InlineData("chrome", null)]
    [InlineData(null, null)]
    public void Old_browsers_are_noise(string? userAgent, string? expected)
    {
        var report = Read(Inline, userAgent);
        Assert.Equal(expected, report.NoiseReason);
        if (userAgent is "chrome") Assert.Equal(("Chrome", "125", "Windows"), (report.Browser, report.BrowserMajor, report.Os));
    }

    [Fact]
    public void Minimum_versions_are_configurable()
    {
        var noise = new Lookout.Grains.Reports.Noise.NoiseOptions { MinimumVersions = new Dictionary<string, int> { ["Chrome"] = 200 } };
        Assert.Equal("legacy_browser", Read(Inline, "chrome", noise: noise).NoiseReason);
        Assert.Null(Read(Inline, "ie", noise: noise).NoiseReason);
    }

    [Fact]
    public void A_dry_run_rule_records_what_it_would_drop_and_drops_nothing()
    {
        var noise = new Lookout.Grains.Reports.Noise.NoiseOptions { DryRun = new HashSet<string> { "legacy_browser" } };
        var report = Read(Inline, "old-safari", noise: noise);
        Assert.Null(report.NoiseReason);
        Assert.Equal("legacy_browser", report.NoiseDryRun);
    }

    [Fact]
    public void Custom_rules_match_wildcards_per_application()
    {
        var rule = new Lookout.Grains.Reports.Noise.CustomNoiseRule("ad_network", ["shop"], "*.ads.example", null, null, DryRun: false);
        var noise = new Lookout.Grains.Reports.Noise.NoiseOptions { Rules = [rule] };
        Assert.Equal("ad_network", Read(Ads, noise: noise).NoiseReason);
        Assert.Null(Read(Ads, app: "blog", noise: noise).NoiseReason);
        Assert.Null(Read(Inline, noise: noise).NoiseReason);

        var dry = new Lookout.Grains.Reports.Noise.NoiseOptions { Rules = [rule with { DryRun = true }] };
        var report = Read(Ads, noise: dry);
        Assert.Null(report.NoiseReason);
        Assert.Equal("ad_network", report.NoiseDryRun);
    }

    [Theory]
    [InlineData("*.example.com", "a.example.com", true)]
    [InlineData("*.example.com", "A.B.EXAMPLE.COM", true)]
    [InlineData("*.example.com", "example.com", false)]
    [InlineData("*.example.com", "evilexample.com", false)]
    [InlineData("https://staging.example/*", "https://staging.example/p?q=", true)]
    [InlineData("cdn.example", "cdn.example.evil", false)]
    public void Wildcards_match_whole_values(string pattern, string value, bool expected)
        => Assert.Equal(expected, Lookout.Grains.Reports.Noise.CustomNoiseRule.Wildcard(pattern)!.IsMatch(value));
}
