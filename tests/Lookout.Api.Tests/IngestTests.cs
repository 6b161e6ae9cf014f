// The ingest contract: routes, status codes, problem+json, CORS, and every corpus payload.
using System.Net;
using Lookout.Grains.Reports;
using Lookout.Grains.Reports.Normalization;
using Lookout.Tests.Shared;

namespace Lookout.Api.Tests;

public sealed class IngestTests : SqliteApiTest
{
    [Fact]
    public async Task Every_corpus_payload_is_stored_or_refused_with_a_4xx_and_counts_are_exact()
    {
        var expectedReports = 0;
        foreach (var file in Corpus.Files)
        {
            var body = await File.ReadAllBytesAsync(file);
            using var response = await Client.PostReportAsync("/r/corpus", body);
            var parsed = ReportPipeline.Process(body, new IngestContext(DateTimeOffset.UtcNow), NormalizationOptions.Default);
            if (parsed.Reports.Count > 0)
            {
                Assert.True(response.StatusCode == HttpStatusCode.NoContent, $"{Path.GetFileName(file)}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
                expectedReports += parsed.Reports.Count;
            }
            else
            {
                Assert.InRange((int)response.StatusCode, 400, 499);
                Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
            }
        }
        var counts = await Client.GetJsonAsync("/api/apps/corpus/counts");
        Assert.Equal(expectedReports, counts.GetProperty("total").GetInt64());
        var app = (await Client.GetJsonAsync("/api/apps")).GetProperty("apps").EnumerateArray().Single();
        Assert.Equal(expectedReports, app.GetProperty("total").GetInt64());
        Assert.Equal(counts.GetProperty("noise").GetInt64(), app.GetProperty("noise").GetInt64());
        Assert.True(counts.GetProperty("noise").GetInt64() > 0);
    }

    [Theory]
    [InlineData("/r/bad!id", 400)]
    [InlineData("/r/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", 400)]
    [InlineData("/r", 400)]
    [InlineData("/r?app=", 400)]
    [InlineData("/r?app=ok.app_1-x", 204)]
    [InlineData("/r/ok.app_1-x", 204)]
    [InlineData("/r/x?enforced=maybe", 400)]
    [InlineData("/r/x?status=99", 400)]
    [InlineData("/r/x?enforced=1&status=200&env=prod&release=1.2.3", 204)]
    public async Task Routes_and_extras_are_validated(string path, int expected)
    {
        using var response = await Client.PostReportAsync(path, HttpHelpers.Csp("https://a.example/", "inline", "script-src"));
        Assert.Equal(expected, (int)response.StatusCode);
        Assert.Equal("*", response.Headers.GetValues("Access-Control-Allow-Origin").Single());
    }

    [Theory]
    [InlineData("NOT_A_JSON", "application/csp-report", 415)]
    [InlineData("{\"csp-report\": ", "application/csp-report", 400)]
    [InlineData("", "application/csp-report", 400)]
    [InlineData("[1,2]", "application/reports+json", 400)]
    [InlineData("{\"csp-report\":{\"document-uri\":\"https://a.example/\",\"blocked-uri\":\"eval\",\"violated-directive\":\"script-src\"}}", "text/plain", 204)]
    [InlineData("document-url=https%3A%2F%2Fa.example%2F&violated-directive=object-src", "application/x-www-form-urlencoded", 204)]
    public async Task Bodies_are_sniffed_not_trusted_by_content_type(string body, string contentType, int expected)
    {
        using var response = await Client.PostReportAsync("/r/sniff", body, contentType);
        Assert.Equal(expected, (int)response.StatusCode);
        if (expected != 204) Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
    }

    [Fact]
    public async Task Bodies_over_the_limit_get_413_and_store_nothing()
    {
        var padding = new string('a', 70 * 1024);
        using var response = await Client.PostReportAsync("/r/big", HttpHelpers.Csp("https://a.example/" + padding, "inline", "script-src"));
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
        var apps = await Client.GetJsonAsync("/api/apps");
        Assert.DoesNotContain(apps.GetProperty("apps").EnumerateArray(), a => a.GetProperty("app").GetString() == "big");
    }

    [Fact]
    public async Task Preflight_allows_any_origin_to_post_json()
    {
        using var request = new HttpRequestMessage(HttpMethod.Options, "/r/app");
        request.Headers.Add("Origin", "https://site.example");
        request.Headers.Add("Access-Control-Request-Method", "POST");
        request.Headers.Add("Access-Control-Request-Headers", "content-type");
        using var response = await Client.SendAsync(request);
        Assert.Equal(HttpStatusCode.NoContent, response.StatusCode);
        Assert.Equal("*", response.Headers.GetValues("Access-Control-Allow-Origin").Single());
        Assert.Contains("POST", response.Headers.GetValues("Access-Control-Allow-Methods").Single(), StringComparison.Ordinal);
        Assert.Contains("Content-Type", response.Headers.GetValues("Access-Control-Allow-Headers").Single(), StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task Extras_are_kept_on_the_stored_report()
    {
        using var response = await Client.PostReportAsync("/r/extras?enforced=false&status=404&env=staging&release=v9", HttpHelpers.Csp("https://a.example/p", "https://cdn.example/x.js", "script-src-elem"));
        Assert.Equal(HttpStatusCode.NoContent, response.StatusCode);
        var report = (await Client.GetJsonAsync("/api/apps/extras/reports")).GetProperty("reports").EnumerateArray().Single();
        Assert.Equal("report", report.GetProperty("disposition").GetString());
        Assert.Equal(404, report.GetProperty("status_code").GetInt32());
        Assert.Equal("staging", report.GetProperty("env").GetString());
        Assert.Equal("v9", report.GetProperty("release").GetString());
        Assert.Equal("cdn.example", report.GetProperty("blocked_host").GetString());
    }
}

public sealed class DroppedCountTests : SqliteApiTest
{
    [Fact]
    public async Task Refused_requests_and_rejected_batch_items_are_counted_per_application()
    {
        // A stored report makes the application known; refusals are counted under it from then on.
        using var batch = await Client.PostReportAsync("/r/drops", """[{"type":"network-error","url":"https://a.example/","body":{"type":"ok"}}, 1, "x"]""", "application/reports+json");
        Assert.Equal(System.Net.HttpStatusCode.NoContent, batch.StatusCode);
        (await Client.PostReportAsync("/r/drops", "{\"csp-report\": ")).Dispose();
        (await Client.PostReportAsync("/r/drops", "NOT_A_JSON")).Dispose();
        (await Client.PostReportAsync("/r/drops?enforced=perhaps", HttpHelpers.Csp("https://a.example/", "inline", "script-src"))).Dispose();

        // Dropped counters ride with the next group commit: poll briefly rather than assume timing.
        System.Text.Json.JsonElement counts = default;
        for (var i = 0; i < 100; i++)
        {
            counts = await Client.GetJsonAsync("/api/apps/drops/counts");
            if (counts.Count("dropped", "rejected:not_json") == 1 && counts.Count("dropped", "rejected:malformed") == 1 && counts.Count("dropped", "rejected:invalid_extra") == 1) break;
            await Task.Delay(50);
        }
        Assert.Equal(1, counts.Count("dropped", "rejected:malformed"));
        Assert.Equal(1, counts.Count("dropped", "rejected:not_json"));
        Assert.Equal(1, counts.Count("dropped", "rejected:invalid_extra"));
        Assert.Equal(2, counts.Count("dropped", "rejected:not_a_report"));
        Assert.Equal(1, counts.GetProperty("total").GetInt64());
    }
}
