// The pipeline reads names and values on their raw UTF-8 bytes; escaped spellings must read the same.
using System.Text;
using System.Text.Json;
using Lookout.Grains.Reports;
using Lookout.Grains.Reports.Normalization;
using Lookout.Grains.Reports.Parsing;

namespace Lookout.Grains.Tests;

public sealed class RawReadingTests
{
    private static readonly IngestContext Context = new(new DateTimeOffset(2026, 11, 22, 10, 30, 0, TimeSpan.Zero));

    private static Report Single(string body)
    {
        var result = ReportPipeline.Process(Encoding.UTF8.GetBytes(body), Context, NormalizationOptions.Default);
        Assert.Equal(PayloadError.None, result.Error);
        return Assert.Single(result.Reports);
    }

    [Fact]
    public void Escaped_key_names_read_like_plain_ones()
    {
        // "document\u002duri" is "document-uri"; "blocked\u005FURI" is "blocked_URI".
        var escaped = Single("""{"csp-report":{"document\u002duri":"https://a.example/p","blocked\u005FURI":"https://cdn.example/x.js","violated-directive":"script-src"}}""");
        var plain = Single("""{"csp-report":{"document-uri":"https://a.example/p","blocked_URI":"https://cdn.example/x.js","violated-directive":"script-src"}}""");
        Assert.Equal("a.example", escaped.ReportHost);
        Assert.Equal("cdn.example", escaped.BlockedHost);
        Assert.Equal(plain with { ReceivedAt = escaped.ReceivedAt }, escaped);
    }

    [Fact]
    public void The_first_spelling_of_a_key_wins_in_fields_and_in_the_body()
    {
        var report = Single("""{"csp-report":{"document-uri":"https://first.example/","documentURI":"https://second.example/","document\u002Duri":"https://third.example/","blocked-uri":"inline","violated-directive":"script-src"}}""");
        Assert.Equal("first.example", report.ReportHost);
        using var body = JsonDocument.Parse(report.Body);
        var names = body.RootElement.GetProperty("body").EnumerateObject().Select(p => p.Name).ToList();
        // documentURI and the escaped document-uri fold to document-uri, rename to documentURL as well,
        // and are dropped as later duplicates.
        Assert.Equal(["documentURL", "blockedURL", "violatedDirective"], names);
        Assert.Equal("https://first.example/", body.RootElement.GetProperty("body").GetProperty("documentURL").GetString());
    }

    [Theory]
    [InlineData("https://a.example/p?q=secret&x=1#frag", "https://a.example/p?q=&x=")]
    [InlineData("https:\\/\\/a.example\\/p?q=secret", "https://a.example/p?q=")]
    [InlineData("https://a.example/caf\u00e9?q=\u00e9", "https://a.example/caf\u00e9?q=")]
    public void Url_values_in_the_body_are_scrubbed_escaped_or_not(string jsonValue, string expected)
    {
        var report = Single("{\"csp-report\":{\"document-uri\":\"https://a.example/\",\"blocked-uri\":\"" + jsonValue + "\",\"violated-directive\":\"img-src\"}}");
        using var body = JsonDocument.Parse(report.Body);
        Assert.Equal(expected, body.RootElement.GetProperty("body").GetProperty("blockedURL").GetString());
        Assert.Equal(expected, report.BlockedUrl);
    }

    [Theory]
    [InlineData("https://a.example/p?q=1&&r=2#f", UrlPrivacy.StripQueryValues)]
    [InlineData("https://a.example/p?q=1&&r=2#f", UrlPrivacy.StripQuery)]
    [InlineData("https://a.example/p?q=1&&r=2#f", UrlPrivacy.KeepQuery)]
    [InlineData("no url at all", UrlPrivacy.StripQueryValues)]
    [InlineData("?only=query", UrlPrivacy.StripQueryValues)]
    public void Scrubbing_bytes_and_characters_agree(string value, UrlPrivacy privacy)
    {
        var bytes = Encoding.UTF8.GetBytes(value);
        var destination = new byte[bytes.Length];
        var length = UrlParts.Scrub<byte>(bytes, privacy, destination);
        Assert.Equal(UrlParts.Scrub(value, privacy), Encoding.UTF8.GetString(destination, 0, length));
    }

    [Theory]
    [InlineData("default-src 'self' *.zscaler.net", true)]
    [InlineData("default-src 'self' *.ZSCALER.net", true)]
    [InlineData("default-src 'self' *.zs\\u0063aler.net", true)]
    [InlineData("default-src 'self'", false)]
    public void A_policy_naming_zscaler_is_injected_content(string policy, bool noise)
    {
        var report = Single("{\"csp-report\":{\"document-uri\":\"https://a.example/\",\"blocked-uri\":\"https://cdn.example/x.js\",\"violated-directive\":\"script-src\",\"original-policy\":\"" + policy + "\"}}");
        Assert.Equal(noise ? "injected_content" : null, report.NoiseReason);
    }

    [Fact]
    public void Repeated_short_values_are_shared_and_still_equal()
    {
        var first = Single("""{"csp-report":{"document-uri":"https://a.example/p","violated-directive":"script-src-elem","blocked-uri":"https://cdn.example/x.js"}}""");
        var second = Single("""{"csp-report":{"document-uri":"https://a.example/p","violated-directive":"script-src-elem","blocked-uri":"https://cdn.example/y.js"}}""");
        Assert.Equal("cdn.example", second.BlockedHost);
        Assert.Same(first.ReportHost, second.ReportHost);
        Assert.Same(first.BlockedHost, second.BlockedHost);
        Assert.Equal("https://cdn.example/y.js", second.BlockedUrl);
    }
}
