// How bodies are sniffed and split, whatever the Content-Type said.
using System.Text;
using Lookout.Grains.Reports;
using Lookout.Grains.Reports.Normalization;
using Lookout.Grains.Reports.Parsing;

namespace Lookout.Grains.Tests;

public sealed class PayloadReaderTests
{
    private static readonly IngestContext Context = new(new DateTimeOffset(2026, 11, 22, 10, 30, 0, TimeSpan.Zero));

    private static IngestResult Process(string body) => ReportPipeline.Process(Encoding.UTF8.GetBytes(body), Context, NormalizationOptions.Default);

    [Theory]
    [InlineData("", PayloadError.Empty)]
    [InlineData("   \r\n", PayloadError.Empty)]
    [InlineData("NOT_A_JSON", PayloadError.NotJson)]
    [InlineData("hello=world", PayloadError.NotJson)]
    [InlineData("{\"csp-report\":", PayloadError.MalformedJson)]
    [InlineData("[1, 2, 3]", PayloadError.NoReports)]
    [InlineData("\"just a string\"", PayloadError.NotJson)]
    [InlineData("{\"csp-report\":{\"document-uri\":\"https://a.example/\"}}", PayloadError.None)]
    [InlineData("\uFEFF{\"csp-report\":{\"document-uri\":\"https://a.example/\"}}", PayloadError.None)]
    public void Bodies_are_sniffed(string body, PayloadError expected) => Assert.Equal(expected, Process(body).Error);

    [Fact]
    public void Nesting_deeper_than_the_limit_is_malformed()
    {
        var deep = new string('[', 40) + new string(']', 40);
        Assert.Equal(PayloadError.MalformedJson, Process(deep).Error);
    }

    [Fact]
    public void One_bad_entry_in_a_batch_does_not_reject_its_siblings()
    {
        var result = Process("""[{"type":"csp-violation","url":"https://a.example/","body":{"blockedURL":"inline","effectiveDirective":"script-src-elem"}}, 42, "x"]""");
        Assert.Equal(PayloadError.None, result.Error);
        Assert.Single(result.Reports);
        Assert.Equal(2, result.RejectedEntries);
    }

    [Fact]
    public void A_single_object_is_accepted_where_a_batch_is_expected()
    {
        var result = Process("""{"type":"network-error","url":"https://a.example/","age":10,"body":{"type":"dns.name_not_resolved","phase":"dns"}}""");
        var report = Assert.Single(result.Reports);
        Assert.Equal("network-error", report.Type);
        Assert.Equal("dns.name_not_resolved", report.Classification);
    }

    [Fact]
    public void Unknown_objects_are_kept_with_their_body()
    {
        var report = Assert.Single(Process("""{"hello":"world"}""").Reports);
        Assert.Equal(ReportTypes.Unknown, report.Type);
        Assert.Contains("\"hello\":\"world\"", report.Body, StringComparison.Ordinal);
    }

    [Fact]
    public void Kebab_camel_and_snake_keys_and_numbers_as_strings_read_alike()
    {
        var kebab = Assert.Single(Process("""{"csp-report":{"document-uri":"https://a.example/","blocked-uri":"https://b.example/x","violated-directive":"img-src","line-number":"12","status-code":"200"}}""").Reports);
        var camel = Assert.Single(Process("""{"csp-report":{"documentUri":"https://a.example/","blockedUri":"https://b.example/x","violatedDirective":"img-src","lineNumber":12,"statusCode":200}}""").Reports);
        var snake = Assert.Single(Process("""{"csp-report":{"document_uri":"https://a.example/","blocked_uri":"https://b.example/x","violated_directive":"img-src","line_number":12,"status_code":"200"}}""").Reports);
        foreach (var r in new[] { camel, snake })
        {
            Assert.Equal(kebab.Url, r.Url);
            Assert.Equal(kebab.BlockedHost, r.BlockedHost);
            Assert.Equal(kebab.EffectiveDirective, r.EffectiveDirective);
            Assert.Equal(12, r.LineNumber);
            Assert.Equal(200, r.StatusCode);
        }
    }

    [Fact]
    public void Endpoint_extras_fill_disposition_status_env_and_release()
    {
        var context = Context with { Enforced = false, PageStatus = 404, Env = "staging", Release = "v1.2" };
        var result = ReportPipeline.Process("""{"csp-report":{"document-uri":"https://a.example/","blocked-uri":"inline","violated-directive":"script-src"}}"""u8.ToArray(), context, NormalizationOptions.Default);
        var report = Assert.Single(result.Reports);
        Assert.Equal(Dispositions.Report, report.Disposition);
        Assert.Equal(404, report.StatusCode);
        Assert.Equal("staging", report.Env);
        Assert.Equal("v1.2", report.Release);
    }

    [Fact]
    public void Stored_urls_keep_parameter_names_but_not_values()
    {
        var report = Assert.Single(Process("""{"csp-report":{"document-uri":"https://a.example/p?token=s3cret#x","referrer":"https://r.example/?q=me","blocked-uri":"https://b.example/x.js?k=v"}}""").Reports);
        Assert.Equal("https://a.example/p?token=", report.Url);
        Assert.Equal("https://r.example/?q=", report.Referrer);
        Assert.Equal("https://b.example/x.js?k=", report.BlockedUrl);
        Assert.DoesNotContain("s3cret", report.Body, StringComparison.Ordinal);
    }
}

public sealed class JsonEscapesTests
{
    [Theory]
    [InlineData("""{"a":"x"}""", """{"a":"x"}""")]
    [InlineData("""{"a":"\u0000"}""", """{"a":"\ufffd"}""")]
    [InlineData("""{"a":"\ud800x"}""", """{"a":"\ufffdx"}""")]
    [InlineData("""{"a":"\udc00"}""", """{"a":"\ufffd"}""")]
    [InlineData("""{"a":"\ud83d\ude00"}""", """{"a":"\ud83d\ude00"}""")]
    [InlineData("""{"a":"\\u0000"}""", """{"a":"\\u0000"}""")]
    [InlineData("""{"a":"\u00e9\u0041"}""", """{"a":"\u00e9\u0041"}""")]
    [InlineData("""{"a":"\ud800"}""", """{"a":"\ufffd"}""")]
    public void Nul_and_lone_surrogate_escapes_become_replacement_characters(string input, string expected)
    {
        var repaired = Lookout.Grains.Reports.Parsing.JsonEscapes.Repair(Encoding.UTF8.GetBytes(input));
        Assert.Equal(expected, Encoding.UTF8.GetString(repaired.Span));
    }

    [Fact]
    public void Form_bodies_with_percent_encoded_nul_are_read()
    {
        var result = ReportPipeline.Process("document-url=https%3A%2F%2Fa.example%2F%00&violated-directive=img-src"u8.ToArray(),
            new IngestContext(DateTimeOffset.UnixEpoch), NormalizationOptions.Default);
        Assert.DoesNotContain('\0', Assert.Single(result.Reports).Url!);
    }
}
