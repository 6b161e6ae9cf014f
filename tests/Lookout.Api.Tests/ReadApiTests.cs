// The read API's shapes: counts, series, listings with a cursor, single reports, health.
using System.Net;
using System.Text.Json;

namespace Lookout.Api.Tests;

public sealed class ReadApiTests : SqliteApiTest
{
    private static readonly string[] ListedDimensions =
        ["type", "blocked_host", "effective_directive", "violated_directive", "classification", "report_host", "browser", "disposition", "noise_reason", "noise_dry_run", "dropped", "estimated"];

    private static readonly string[] ReportFields =
    [
        "id", "received_at", "generated_at", "app", "type", "url", "report_host", "path", "referrer", "blocked_url", "blocked_host",
        "effective_directive", "violated_directive", "disposition", "classification", "noise", "noise_reason", "noise_dry_run", "status_code",
        "source_file", "line_number", "column_number", "sample", "browser", "browser_major", "os", "env", "release", "truncated", "body",
        "sampling_fraction", "estimated_count", "group",
    ];

    private async Task SeedAsync()
    {
        for (var i = 0; i < 7; i++)
            (await Client.PostReportAsync("/r/shop", HttpHelpers.Csp($"https://shop.example/p{i}", "https://cdn.evil.example/x.js", "script-src-elem"))).EnsureSuccessStatusCode();
        for (var i = 0; i < 3; i++)
            (await Client.PostReportAsync("/r/shop", HttpHelpers.Csp("http://shop.example/", "inline", "style-src"))).EnsureSuccessStatusCode();
        (await Client.PostReportAsync("/r/shop", HttpHelpers.Csp("https://shop.example/", "moz-extension", "img-src"))).EnsureSuccessStatusCode();
    }

    [Fact]
    public async Task Counts_list_every_dimension_and_leave_noise_out_of_them()
    {
        await SeedAsync();
        var counts = await Client.GetJsonAsync("/api/apps/shop/counts");
        Assert.Equal("shop", counts.GetProperty("app").GetString());
        Assert.Equal(11, counts.GetProperty("total").GetInt64());
        Assert.Equal(1, counts.GetProperty("noise").GetInt64());
        Assert.Equal(ListedDimensions, counts.GetProperty("dimensions").EnumerateObject().Select(p => p.Name));
        Assert.Equal(7, counts.Count("blocked_host", "cdn.evil.example"));
        Assert.Equal(3, counts.Count("classification", "inline_style"));
        Assert.Equal(10, counts.Count("type", "csp-violation"));
        Assert.Equal(1, counts.Count("noise_reason", "browser_extension"));
        Assert.Equal(0, counts.Count("effective_directive", "img-src"));
        var top = counts.GetProperty("dimensions").GetProperty("effective_directive").EnumerateArray().First();
        Assert.Equal("script-src-elem", top.GetProperty("value").GetString());
        Assert.EndsWith("Z", counts.GetProperty("since").GetString(), StringComparison.Ordinal);

        var limited = await Client.GetJsonAsync("/api/apps/shop/counts?limit=1");
        Assert.Single(limited.GetProperty("dimensions").GetProperty("classification").EnumerateArray());
        var future = await Client.GetJsonAsync($"/api/apps/shop/counts?since={DateTime.UtcNow.AddHours(2):O}&until={DateTime.UtcNow.AddHours(3):O}");
        Assert.Equal(0, future.GetProperty("total").GetInt64());
    }

    [Fact]
    public async Task Series_are_zero_filled_per_step()
    {
        await SeedAsync();
        var series = await Client.GetJsonAsync("/api/apps/shop/series?dimension=classification&since=6h");
        var items = series.GetProperty("series").EnumerateArray().ToList();
        Assert.Equal("unauthorized_host", items[0].GetProperty("value").GetString());
        Assert.Equal(7, items[0].GetProperty("total").GetInt64());
        var points = items[0].GetProperty("points").EnumerateArray().ToList();
        Assert.InRange(points.Count, 6, 7);
        Assert.Equal(7, points.Sum(p => p.GetProperty("count").GetInt64()));
        Assert.Equal(7, points[^1].GetProperty("count").GetInt64());

        var total = await Client.GetJsonAsync("/api/apps/shop/series?since=2d&step=1d");
        Assert.Equal(11, total.GetProperty("series").EnumerateArray().Single().GetProperty("total").GetInt64());
    }

    [Fact]
    public async Task Sampled_network_errors_are_estimated_at_their_real_rate_and_total_stays_the_stored_count()
    {
        // Three reports sampled at 30 % and one at 50 %: about 12 requests failed, 4 reports were stored.
        static string Nel(double fraction) => $$$"""[{"type":"network-error","age":0,"url":"https://api.example/v1/orders","body":{"sampling_fraction":{{{fraction.ToString(System.Globalization.CultureInfo.InvariantCulture)}}},"phase":"application","type":"http.error","status_code":503}}]""";
        foreach (var fraction in new[] { 0.3, 0.3, 0.3, 0.5 })
        {
            using var content = new StringContent(Nel(fraction), System.Text.Encoding.UTF8, "application/reports+json");
            (await Client.PostAsync("/r/api", content)).EnsureSuccessStatusCode();
        }
        var counts = await Client.GetJsonAsync("/api/apps/api/counts");
        Assert.Equal(4, counts.GetProperty("total").GetInt64());
        Assert.Equal(4, counts.Count("type", "network-error"));
        Assert.Equal(12, counts.Count("estimated", "http.error"));
        var series = await Client.GetJsonAsync("/api/apps/api/series?dimension=estimated&since=6h");
        var item = series.GetProperty("series").EnumerateArray().Single();
        Assert.Equal(12, item.GetProperty("total").GetInt64());
        Assert.Equal(12, item.GetProperty("points").EnumerateArray().Sum(p => p.GetProperty("count").GetInt64()));
        var reports = await Client.GetJsonAsync("/api/apps/api/reports");
        var fractions = reports.GetProperty("reports").EnumerateArray().Select(r => r.GetProperty("sampling_fraction").GetDouble()).Order().ToList();
        Assert.Equal([0.3, 0.3, 0.3, 0.5], fractions);
        Assert.Contains(reports.GetProperty("reports").EnumerateArray(), r => r.GetProperty("estimated_count").GetDouble() == 2);
    }

    [Theory]
    [InlineData("/api/apps/shop/series?dimension=nope")]
    [InlineData("/api/apps/shop/series?step=5m")]
    [InlineData("/api/apps/shop/series?since=1000d&step=1h")]
    [InlineData("/api/apps/shop/counts?since=yesterday")]
    [InlineData("/api/apps/shop/counts?limit=0")]
    [InlineData("/api/apps/shop/counts?since=1h&until=2h")]
    [InlineData("/api/apps/sh*p/counts")]
    [InlineData("/api/apps/shop/reports?before=xyz")]
    [InlineData("/api/apps/shop/reports?limit=100000")]
    [InlineData("/api/reports/not-a-guid")]
    public async Task Bad_queries_get_400_problems(string path)
    {
        using var response = await Client.GetAsync(path);
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
    }

    [Fact]
    public async Task Reports_page_newest_first_and_open_one_by_one()
    {
        await SeedAsync();
        var ids = new List<string>();
        string? next = null;
        do
        {
            var page = await Client.GetJsonAsync("/api/apps/shop/reports?limit=4" + (next is null ? "" : "&before=" + next));
            var reports = page.GetProperty("reports").EnumerateArray().ToList();
            foreach (var r in reports)
            {
                Assert.Equal(ReportFields, r.EnumerateObject().Select(p => p.Name));
                ids.Add(r.GetProperty("id").GetString()!);
            }
            next = page.GetProperty("next").ValueKind == JsonValueKind.Null ? null : page.GetProperty("next").GetString();
        }
        while (next is not null);
        Assert.Equal(11, ids.Distinct().Count());
        Assert.Equal("moz-extension", (await Client.GetJsonAsync("/api/reports/" + ids[0])).GetProperty("blocked_url").GetString());

        var one = await Client.GetJsonAsync("/api/reports/" + ids[^1]);
        Assert.Equal("shop", one.GetProperty("app").GetString());
        Assert.Equal("csp-violation", one.GetProperty("body").GetProperty("type").GetString());
        Assert.Equal("https://cdn.evil.example/x.js", one.GetProperty("body").GetProperty("body").GetProperty("blockedURL").GetString());
        Assert.Equal(JsonValueKind.Null, one.GetProperty("sample").ValueKind);

        using var missing = await Client.GetAsync("/api/reports/" + Guid.NewGuid());
        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
    }

    [Fact]
    public async Task Health_endpoints_answer()
    {
        Assert.Equal("ok", (await Client.GetJsonAsync("/healthz")).GetProperty("status").GetString());
        Assert.Equal("ready", (await Client.GetJsonAsync("/readyz")).GetProperty("status").GetString());
    }
}

public sealed class SearchApiTests : SqliteApiTest
{
    private async Task SeedAsync()
    {
        for (var i = 0; i < 30; i++)
            (await Client.PostReportAsync("/r/monorail", HttpHelpers.Csp("https://m.example/", i % 3 == 0 ? "http://pbs.twimg.com/a.png" : "https://cdn.example.com/a.js", "script-src"))).EnsureSuccessStatusCode();
        (await Client.PostReportAsync("/r/other", HttpHelpers.Csp("https://o.example/", "http://pbs.twimg.com/a.png", "script-src"))).EnsureSuccessStatusCode();
    }

    [Fact]
    public async Task Searches_filter_page_and_cross_applications()
    {
        await SeedAsync();
        var page = await Client.GetJsonAsync("/api/apps/monorail/reports?q=" + Uri.EscapeDataString("blocked_host:*.twimg.com classification:\"mixed_content\"") + "&limit=4");
        Assert.Equal(4, page.GetProperty("reports").GetArrayLength());
        var next = page.GetProperty("next").GetString();
        var rest = await Client.GetJsonAsync("/api/apps/monorail/reports?q=" + Uri.EscapeDataString("blocked_host:*.twimg.com") + "&limit=100&before=" + next);
        Assert.Equal(6, rest.GetProperty("reports").GetArrayLength());

        var all = await Client.GetJsonAsync("/api/reports?q=" + Uri.EscapeDataString("blocked_host:pbs.twimg.com") + "&limit=100");
        Assert.Equal(11, all.GetProperty("reports").GetArrayLength());
        var other = await Client.GetJsonAsync("/api/reports?q=" + Uri.EscapeDataString("app_name:other"));
        Assert.Equal("other", other.GetProperty("reports")[0].GetProperty("app").GetString());
    }

    [Fact]
    public async Task Malformed_queries_answer_400_with_position_and_expectation()
    {
        using var response = await Client.GetAsync("/api/apps/monorail/reports?q=" + Uri.EscapeDataString("blocked_host:x OR"));
        Assert.Equal(System.Net.HttpStatusCode.BadRequest, response.StatusCode);
        var problem = System.Text.Json.JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
        Assert.Equal(17, problem.GetProperty("position").GetInt32());
        Assert.Equal("a term after OR", problem.GetProperty("expected").GetString());
        using var across = await Client.GetAsync("/api/reports?q=color:red");
        Assert.Equal(System.Net.HttpStatusCode.BadRequest, across.StatusCode);
    }

    [Fact]
    public async Task Matches_stream_as_ndjson()
    {
        await SeedAsync();
        using var response = await Client.GetAsync("/api/apps/monorail/reports.ndjson?q=" + Uri.EscapeDataString("-blocked_host:pbs.twimg.com"));
        Assert.Equal("application/x-ndjson", response.Content.Headers.ContentType?.MediaType);
        var lines = (await response.Content.ReadAsStringAsync()).Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(20, lines.Length);
        Assert.All(lines, l => Assert.Equal("cdn.example.com", System.Text.Json.JsonDocument.Parse(l).RootElement.GetProperty("blocked_host").GetString()));
        using var bad = await Client.GetAsync("/api/apps/monorail/reports.ndjson?q=nope");
        Assert.Equal(System.Net.HttpStatusCode.BadRequest, bad.StatusCode);
    }
}

