// Suggest and simulate over the scenario: two CDNs, an inline script on one page, a data: image.
using Lookout.Grains.Policy;

namespace Lookout.Grains.Tests.Policy;

public sealed class PolicySuggesterTests
{
    private const string Original = "default-src 'self'; report-uri /r/shop";
    private static readonly PublicSuffixes Suffixes = new(["com", "net", "co.uk", "github.io", "example"]);

    private static PolicyReport Report(string directive, string blocked, string path = "/", string? classification = null, string? noise = null, string? host = null)
        => new(Guid.CreateVersion7(), DateTimeOffset.UnixEpoch, directive, blocked, host ?? (Uri.TryCreate(blocked, UriKind.Absolute, out var u) && u.Host.Length > 0 ? u.Host : null),
            "https://shop.example" + path, path, classification, "report", noise, false, null);

    private static List<PolicyReport> Scenario() =>
    [
        Report("script-src-elem", "https://cdn.one.net/lib.js", "/"),
        Report("script-src-elem", "https://cdn.one.net/lib.js", "/cart"),
        Report("script-src-elem", "https://static.two.com/app.js", "/"),
        Report("script-src-elem", "inline", "/checkout", "inline_script"),
        Report("img-src", "data", "/"),
        Report("img-src", "chrome-extension", "/", noise: "browser_extension"),
    ];

    [Fact]
    public void Names_both_cdns_under_script_src_data_under_img_src_and_calls_out_the_inline_page()
    {
        var suggester = new PolicySuggester(Original, Suffixes);
        foreach (var r in Scenario()) suggester.Add(r);
        var s = suggester.Build();
        Assert.Equal("default-src 'self'; report-uri /r/shop; img-src 'self' data:; script-src 'self' https://cdn.one.net https://static.two.com", s.Policy);
        var cdn = Assert.Single(s.Directives["script-src"], x => x.Source == "https://cdn.one.net");
        Assert.Equal((2L, true), (cdn.Reports, cdn.Added));
        Assert.Equal(["/", "/cart"], cdn.Pages.Order());
        var inline = Assert.Single(s.Code);
        Assert.Equal(("script-src", "inline_script"), (inline.Directive, inline.Kind));
        Assert.Equal(["/checkout"], inline.Pages);
        Assert.Contains(s.LeftOut, l => l.Source == "'unsafe-inline'" && l.Reason == "inline_script");
        Assert.DoesNotContain("unsafe-inline", s.Policy);
        Assert.Equal(1, s.Noise.Reports);
        Assert.Equal(5, s.Reports);
    }

    [Fact]
    public void The_suggestion_allows_what_it_was_built_from_and_a_draft_without_one_cdn_blocks_exactly_that_cdn()
    {
        var suggester = new PolicySuggester(Original, Suffixes);
        foreach (var r in Scenario()) suggester.Add(r);
        var suggested = suggester.Build().Policy;

        var simulator = new PolicySimulator(suggested);
        foreach (var r in Scenario()) simulator.Add(r);
        var all = simulator.Build();
        Assert.Equal((5L, 4L, 1L, 0L), (all.Reports, all.Allowed, all.StillBlocked, all.Unknown));
        Assert.Equal(("script-src-elem", "inline"), (all.ByGroup[0].Directive, all.ByGroup[0].Blocked));

        var withoutTwo = new PolicySimulator(suggested.Replace(" https://static.two.com", ""));
        var reports = Scenario();
        foreach (var r in reports) withoutTwo.Add(r);
        var result = withoutTwo.Build();
        Assert.Equal(2, result.StillBlocked);
        var two = Assert.Single(result.ByGroup, g => g.Blocked == "static.two.com");
        Assert.Equal(1, two.StillBlocked);
        Assert.Equal([reports[2].Id], two.Samples["still_blocked"]);
        Assert.Equal(0, Assert.Single(result.ByGroup, g => g.Blocked == "cdn.one.net").StillBlocked);
    }

    [Fact]
    public void Three_subdomains_become_a_wildcard_but_never_at_a_public_suffix()
    {
        var suggester = new PolicySuggester(Original, Suffixes);
        foreach (var host in new[] { "a.img.example.com", "b.img.example.com", "c.img.example.com", "x.co.uk", "y.co.uk", "z.co.uk" })
            suggester.Add(Report("img-src", $"https://{host}/p.png"));
        var sources = suggester.Build().Directives["img-src"].Select(s => s.Source).ToList();
        Assert.Contains("https://*.img.example.com", sources);
        Assert.DoesNotContain(sources, s => s.Contains("*.co.uk", StringComparison.Ordinal));
        Assert.Contains("https://x.co.uk", sources);
    }

    [Fact]
    public void Insecure_resources_and_strict_dynamic_are_left_out_with_their_reason()
    {
        var suggester = new PolicySuggester("script-src 'strict-dynamic' 'nonce-abc'; img-src 'self'", Suffixes);
        suggester.Add(Report("img-src", "http://plain.example.net/x.png"));
        suggester.Add(Report("script-src-elem", "https://cdn.one.net/lib.js"));
        var s = suggester.Build();
        Assert.Contains(s.LeftOut, l => l.Reason == LeftOutReasons.Insecure && l.Source == "http://plain.example.net");
        Assert.Contains(s.LeftOut, l => l.Reason == LeftOutReasons.StrictDynamic);
        Assert.Equal("script-src 'strict-dynamic' 'nonce-abc'; img-src 'self'", s.Policy);
    }

    [Fact]
    public void Without_an_original_policy_it_extends_default_src_self_and_already_allowed_reports_add_nothing()
    {
        var suggester = new PolicySuggester(null, Suffixes);
        suggester.Add(Report("img-src", "https://shop.example/logo.png"));
        var s = suggester.Build();
        Assert.Null(s.BasedOn);
        Assert.Equal("default-src 'self'", s.Policy);
        Assert.Equal(1, s.AlreadyAllowed);
    }

    [Fact]
    public void Distinct_sources_are_bounded_and_the_rest_counted()
    {
        var suggester = new PolicySuggester(Original, Suffixes);
        for (var i = 0; i < PolicySuggester.MaxSources + 10; i++) suggester.Add(Report("img-src", $"https://h{i}.example/x.png"));
        var s = suggester.Build();
        Assert.Equal(10, Assert.Single(s.LeftOut, l => l.Reason == LeftOutReasons.TooManySources).Reports);
    }

    [Fact]
    public void Public_suffix_rules_cover_wildcards_and_exceptions()
    {
        var list = new PublicSuffixes(["com", "*.ck", "!www.ck", "// comment", "公司.cn"]);
        Assert.True(list.IsPublicSuffix("com"));
        Assert.True(list.IsPublicSuffix("anything.ck"));
        Assert.False(list.IsPublicSuffix("www.ck"));
        Assert.False(list.IsPublicSuffix("example.com"));
        Assert.True(list.IsPublicSuffix("xn--55qx5d.cn"));
        Assert.True(list.IsPublicSuffix("io"));
    }
}
