// The expected facts of the real payloads in tests/golden, written here, checked against the pipeline, one row per payload.
using Lookout.Grains.Reports;
using Lookout.Grains.Reports.Normalization;
using Lookout.Grains.Reports.Parsing;
using Lookout.Tests.Shared;

namespace Lookout.Grains.Tests;

public sealed class CorpusFactsTests
{
    private static readonly IngestContext Context = new(new DateTimeOffset(2026, 11, 22, 10, 30, 0, TimeSpan.Zero));

    private static IngestResult Read(string number) => ReportPipeline.Process(Corpus.Bytes(number), Context, NormalizationOptions.Default);

    // number, type, url, report host, blocked host, effective directive, disposition, classification, noise reason
    [Theory]
    [InlineData("01", "csp-violation", "http://example.org/page.html", "example.org", "evil.example.com", "img-src", "unknown", "unauthorized_host", null)]
    [InlineData("03", "csp-violation", "https://example.com/foo/bar", "example.com", "evilhackerscripts.com", "default-src", "unknown", "mixed_content", null)]
    [InlineData("05", "csp-violation", "http://notlocalhost:8000/", "notlocalhost", "notlocalhost", "style-src", "unknown", "same_origin", null)]
    [InlineData("07", "csp-violation", "https://sentry.io/sentry/csp/issues/88513416/", "sentry.io", "baddomain.com", "script-src", "enforce", "mixed_content", null)]
    [InlineData("09", "csp-violation", "http://example.com/foo", "example.com", null, "style-src", "unknown", "inline_style", null)]
    [InlineData("13", "csp-violation", null, null, null, "img-src", "unknown", "scheme", null)]
    [InlineData("19", "csp-violation", "about:blank", null, null, "frame-ancestors", "unknown", "scheme", "non_web_document")]
    [InlineData("21", "csp-violation", null, null, null, "img-src", "unknown", "other", "unactionable")]
    [InlineData("25", "csp-violation", "https://van11y.net/accessible-simple-tooltip/", "van11y.net", null, "font-src", "unknown", "browser_extension", "browser_extension")]
    [InlineData("27", "csp-violation", null, null, null, "base-uri", "unknown", "browser_extension", "browser_extension")]
    [InlineData("29", "csp-violation", "http://www.visionclinique.ch/fr/la-clinique", "visionclinique.ch", null, "img-src", "unknown", "browser_extension", "browser_extension")]
    [InlineData("33", "csp-violation", null, null, null, "script-src", "unknown", "eval", null)]
    [InlineData("41", "csp-violation", null, null, null, "script-src", "unknown", "inline_script", null)]
    [InlineData("47", "csp-violation", null, null, "ssl.google-analytics.com", "connect-src", "unknown", null, null)]
    [InlineData("49", "csp-violation", null, null, null, "img-src", "unknown", "scheme", "unactionable")]
    [InlineData("51", "csp-violation", "https://example.com/tst/test_frame.php?ID=&hash=", "example.com", "example.com", "img-src", "enforce", "same_origin", null)]
    [InlineData("55", "csp-violation", null, null, "url-of-blocked-resource.js", "script-src-elem", "enforce", null, null)]
    [InlineData("57", "hpkp", "https://www.example.com/", "example.com", null, null, "unknown", "pin_validation_failure", null)]
    [InlineData("59", "expect-ct", "https://www.example.com/", "example.com", null, null, "unknown", "ct_requirement_failure", null)]
    [InlineData("61", "expect-ct", null, null, null, null, "enforce", "ct_requirement_failure", null)]
    [InlineData("63", "expect-staple", "https://www.example.com/", "example.com", null, null, "unknown", "provided", null)]
    [InlineData("65", "network-error", "https://www.example.com/", "example.com", null, null, "unknown", "http.protocol.error", null)]
    [InlineData("77", "crash", null, null, null, null, "unknown", "oom", null)]
    [InlineData("83", "coop", null, null, null, null, "report", "access-from-coop-page-to-opener", null)]
    [InlineData("85", "integrity-violation", null, null, "url-of-blocked-resource.js", null, "enforce", "script", null)]
    [InlineData("93", "csp-violation", null, null, null, "font-src", "enforce", "scheme", null)]
    [InlineData("95", "deprecation", null, null, null, null, "unknown", "ElementCreateShadowRoot", "browser_extension")]
    public void First_report_has_the_expected_facts(string number, string type, string? url, string? reportHost, string? blockedHost,
        string? effective, string disposition, string? classification, string? noise)
    {
        var result = Read(number);
        Assert.Equal(PayloadError.None, result.Error);
        var r = result.Reports[0];
        Assert.Equal(type, r.Type);
        if (url is not null) Assert.Equal(url, r.Url);
        if (reportHost is not null) Assert.Equal(reportHost, r.ReportHost);
        Assert.Equal(blockedHost, r.BlockedHost);
        Assert.Equal(effective, r.EffectiveDirective);
        Assert.Equal(disposition, r.Disposition);
        if (classification is not null) Assert.Equal(classification, r.Classification);
        Assert.Equal(noise, r.NoiseReason);
    }

    [Theory]
    [InlineData("43", PayloadError.NotJson)]
    [InlineData("73", PayloadError.MalformedJson)]
    public void Broken_payloads_are_refused_with_a_reason(string number, PayloadError expected) => Assert.Equal(expected, Read(number).Error);

    [Fact]
    public void Form_encoded_old_webkit_report_is_read()
    {
        var r = Assert.Single(Read("15").Reports);
        Assert.Equal("object-src", r.EffectiveDirective);
        Assert.Equal("45.55.25.245", r.ReportHost);
        Assert.StartsWith("http://45.55.25.245:8123/csp?os=", r.Url, StringComparison.Ordinal);
    }

    [Fact]
    public void Firefox_request_line_gives_the_document()
    {
        var r = Assert.Single(Read("17").Reports);
        Assert.Equal("45.55.25.245", r.ReportHost);
        Assert.Equal("raw.githubusercontent.com", r.BlockedHost);
    }

    [Fact]
    public void Batches_keep_every_report()
    {
        Assert.Equal(3, Read("53").Reports.Count);
        Assert.Equal(36, Read("97").Reports.Count);
        Assert.Equal("access-to-coop-page-from-opener", Read("101").Reports[0].Classification);
        var mixed = Read("87").Reports;
        Assert.Equal(["csp-violation", "permissions-policy-violation", "deprecation"], mixed.Select(r => r.Type));
        Assert.Equal("camera", mixed[1].Classification);
        Assert.Equal("localhost", mixed[0].NoiseReason);
    }

    [Fact]
    public void Age_gives_the_reports_own_time()
    {
        var r = Read("53").Reports[0];
        Assert.Equal(Context.ReceivedAt.AddMilliseconds(-156165), r.GeneratedAt);
    }

    [Fact]
    public void Csp_hash_reports_name_their_resource()
    {
        var result = ReportPipeline.Process("""{"type":"csp-hash","url":"https://a.example/","age":1,"body":{"documentURL":"https://a.example/","subresourceURL":"https://cdn.example/lib.js","hash":"sha256-abc","type":"subresource","destination":"script"}}"""u8.ToArray(), Context, NormalizationOptions.Default);
        var r = Assert.Single(result.Reports);
        Assert.Equal(("csp-hash", "script", "cdn.example"), (r.Type, r.Classification, r.BlockedHost));
    }

    [Fact]
    public void Age_as_a_string_is_read()
    {
        Assert.Equal(176279, Read("55").Reports[0].AgeMs);
        Assert.Equal(156165, Read("53").Reports[0].AgeMs);
    }

    [Fact]
    public void Every_corpus_file_either_parses_or_is_refused_with_a_reason()
    {
        // The 51 real payloads the facts above come from; a lost file must not shrink what is checked.
        Assert.True(Corpus.Files.Count >= 51, $"{Corpus.Files.Count} payloads in {Corpus.Directory}; expected at least 51.");
        foreach (var file in Corpus.Files)
        {
            var result = ReportPipeline.Process(File.ReadAllBytes(file), Context, NormalizationOptions.Default);
            Assert.True(result.Error != PayloadError.None || result.Reports.Count > 0, file);
            foreach (var report in result.Reports) System.Text.Json.JsonDocument.Parse(report.Body).Dispose();
        }
    }
}
