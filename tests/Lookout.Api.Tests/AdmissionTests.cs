// What a public endpoint does with made-up application ids and crafted user agents: bounded creation,
// nothing stored for refusals, a bounded number of uap-core evaluations per request.
using System.Net;
using System.Text;
using Lookout.Silo.UserAgents;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;

namespace Lookout.Api.Tests;

public sealed class AdmissionTests
{
    // Refusals of applications with nothing stored are counted in the bucket "*".
    private static Task<long> UnknownDroppedAsync(HttpClient client, string reason, long expected) => LimitsTests.DroppedAsync(client, "*", reason, expected);

    private static string[] AppIds(System.Text.Json.JsonElement apps) => [.. apps.GetProperty("apps").EnumerateArray().Select(a => a.GetProperty("app").GetString()!)];

    [Fact]
    public async Task A_refusal_for_an_unknown_application_creates_nothing_for_it()
    {
        using var folder = new TempFolder();
        await using var factory = LookoutFactory.Sqlite(folder.File("a.db"));
        using var client = factory.CreateClient();
        (await client.PostReportAsync("/r/ghost", "NOT_A_JSON")).Dispose();
        (await client.PostReportAsync("/r/ghost2", "{\"csp-report\": ")).Dispose();
        Assert.Equal(1, await UnknownDroppedAsync(client, "rejected:not_json", 1));
        Assert.Equal(1, await UnknownDroppedAsync(client, "rejected:malformed", 1));
        Assert.Empty(AppIds(await client.GetJsonAsync("/api/apps")));
        var ghost = await client.GetJsonAsync("/api/apps/ghost/counts");
        Assert.Empty(ghost.GetProperty("dimensions").GetProperty("dropped").EnumerateArray());
    }

    [Fact]
    public async Task New_applications_beyond_the_minute_budget_get_429_and_known_ones_still_pass()
    {
        using var folder = new TempFolder();
        await using var factory = LookoutFactory.Sqlite(folder.File("a.db"), new Dictionary<string, string> { ["Lookout:Apps:MaxNewPerMinute"] = "2" });
        using var client = factory.CreateClient();
        var report = HttpHelpers.Csp("https://a.example/", "inline", "script-src");
        foreach (var app in new[] { "one", "two", "one", "two" })
        {
            using var ok = await client.PostReportAsync("/r/" + app, report);
            Assert.Equal(HttpStatusCode.NoContent, ok.StatusCode);
        }
        using var third = await client.PostReportAsync("/r/three", report);
        Assert.Equal(HttpStatusCode.TooManyRequests, third.StatusCode);
        Assert.Contains("new_app_rate", await third.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.True(third.Headers.RetryAfter?.Delta >= TimeSpan.FromSeconds(1));
        using var again = await client.PostReportAsync("/r/one", report);
        Assert.Equal(HttpStatusCode.NoContent, again.StatusCode);
        Assert.Equal(1, await UnknownDroppedAsync(client, "rate_limited:new_app", 1));
        Assert.Equal(["one", "two"], AppIds(await client.GetJsonAsync("/api/apps")));
    }

    [Fact]
    public async Task Only_allowed_applications_are_accepted()
    {
        using var folder = new TempFolder();
        await using var factory = LookoutFactory.Sqlite(folder.File("a.db"), new Dictionary<string, string>
        {
            ["Lookout:Apps:Allowed:0"] = "shop",
            ["Lookout:Apps:Allowed:1"] = "blog-*",
        });
        using var client = factory.CreateClient();
        var report = HttpHelpers.Csp("https://a.example/", "inline", "script-src");
        foreach (var (app, status) in new[] { ("shop", HttpStatusCode.NoContent), ("blog-eu", HttpStatusCode.NoContent), ("shops", HttpStatusCode.NotFound), ("blog", HttpStatusCode.NotFound) })
        {
            using var response = await client.PostReportAsync("/r/" + app, report);
            Assert.Equal(status, response.StatusCode);
            if (status == HttpStatusCode.NotFound) Assert.Contains("unknown_app", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }
        Assert.Equal(2, await UnknownDroppedAsync(client, "rejected:unknown_app", 2));
    }

    [Theory]
    [InlineData(".")]
    [InlineData("..")]
    [InlineData("....")]
    public async Task Ids_made_only_of_dots_are_refused(string app)
    {
        using var folder = new TempFolder();
        await using var factory = LookoutFactory.Sqlite(folder.File("a.db"));
        using var client = factory.CreateClient();
        using var response = await client.PostReportAsync("/r?app=" + app, HttpHelpers.Csp("https://a.example/", "inline", "script-src"));
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("invalid_app", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Applications_come_in_pages_with_their_sparklines()
    {
        using var folder = new TempFolder();
        await using var factory = LookoutFactory.Sqlite(folder.File("a.db"));
        using var client = factory.CreateClient();
        foreach (var (app, times) in new[] { ("c", 1), ("a", 3), ("b", 2), ("d", 1), ("e", 1) })
        {
            for (var i = 0; i < times; i++) (await client.PostReportAsync("/r/" + app, HttpHelpers.Csp("https://a.example/", "inline", "script-src"))).Dispose();
        }
        var first = await client.GetJsonAsync("/api/apps?limit=2&sparkline=24h");
        Assert.Equal(["a", "b"], AppIds(first));
        var line = first.GetProperty("apps")[0].GetProperty("sparkline").EnumerateArray().Select(e => e.GetInt64()).ToArray();
        Assert.Equal(24, line.Length);
        Assert.Equal(3, line[^1]);
        Assert.Equal(3, line.Sum());
        var second = await client.GetJsonAsync("/api/apps?limit=2&after=" + first.GetProperty("next").GetString());
        Assert.Equal(["c", "d"], AppIds(second));
        var last = await client.GetJsonAsync("/api/apps?limit=2&after=d");
        Assert.Equal(["e"], AppIds(last));
        Assert.Equal(System.Text.Json.JsonValueKind.Null, last.GetProperty("next").ValueKind);
        using var bad = await client.GetAsync("/api/apps?limit=0");
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
    }

    private static string Batch(int reports, Func<int, string> userAgent) => "[" + string.Join(",", Enumerable.Range(0, reports).Select(i =>
        $$$"""{"type":"csp-violation","age":1,"url":"https://shop.example/p","user_agent":"{{{userAgent(i)}}}","body":{"documentURL":"https://shop.example/p","blockedURL":"inline","effectiveDirective":"script-src-elem","disposition":"report"}}""")) + "]";

    [Fact]
    public async Task A_batch_of_distinct_user_agents_costs_a_bounded_number_of_uap_core_evaluations()
    {
        using var folder = new TempFolder();
        await using var factory = LookoutFactory.Sqlite(folder.File("a.db"));
        using var client = factory.CreateClient();
        var parser = factory.Services.GetRequiredService<UapCoreParser>();
        var random = new Random(7);
        var before = parser.Evaluations;
        // The attack: every report its own 256-character user agent (as many as fit in 64 KB).
        using var response = await client.PostReportAsync("/r/shop", Batch(120, _ => "Mozilla/5.0 " + new string('a', 236) + random.Next(10_000_000, 99_999_999)), "application/reports+json");
        Assert.Equal(HttpStatusCode.NoContent, response.StatusCode);
        Assert.True(parser.Evaluations - before <= Lookout.Api.Ingest.IngestOptions.DefaultUserAgentParsesPerRequest,
            $"{parser.Evaluations - before} evaluations for one request");
        // Stored, user agent kept, browser and OS marked unparsed, and counted under the browser dimension.
        var counts = await client.GetJsonAsync("/api/apps/shop/counts");
        Assert.Equal(120, counts.GetProperty("total").GetInt64());
        Assert.Equal(120 - Lookout.Api.Ingest.IngestOptions.DefaultUserAgentParsesPerRequest, counts.Count("browser", "unparsed"));
        var page = await client.GetJsonAsync("/api/apps/shop/reports?q=" + Uri.EscapeDataString("browser:unparsed") + "&limit=1");
        Assert.StartsWith("Mozilla/5.0 aaaa", page.GetProperty("reports")[0].GetProperty("body").GetProperty("user_agent").GetString(), StringComparison.Ordinal);

        // A real browser's batch (one user agent) is parsed, and its next batch is answered from the cache.
        const string Chrome = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/125.0.0.0 Safari/537.36";
        before = parser.Evaluations;
        (await client.PostReportAsync("/r/shop", Batch(20, _ => Chrome), "application/reports+json")).Dispose();
        (await client.PostReportAsync("/r/shop", Batch(20, _ => Chrome), "application/reports+json")).Dispose();
        Assert.Equal(1, parser.Evaluations - before);
        var browsers = (await client.GetJsonAsync("/api/apps/shop/counts")).GetProperty("dimensions").GetProperty("browser");
        Assert.True(browsers.EnumerateArray().Any(b => b.GetProperty("value").GetString()!.StartsWith("Chrome", StringComparison.Ordinal) && b.GetProperty("count").GetInt64() == 40), browsers.ToString());
    }

    [Fact]
    public async Task A_client_past_its_user_agent_budget_gets_unparsed_reports_not_refusals()
    {
        using var folder = new TempFolder();
        await using var factory = LookoutFactory.Sqlite(folder.File("a.db"), new Dictionary<string, string>
        {
            ["Lookout:RateLimits:UserAgentParses:PerSecond"] = "1",
            ["Lookout:RateLimits:UserAgentParses:Burst"] = "3",
        });
        using var client = factory.CreateClient();
        var parser = factory.Services.GetRequiredService<UapCoreParser>();
        var before = parser.Evaluations;
        for (var i = 0; i < 10; i++)
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, "/r/shop") { Content = new StringContent(HttpHelpers.Csp("https://a.example/", "inline", "script-src"), Encoding.UTF8, "application/csp-report") };
            request.Headers.TryAddWithoutValidation("User-Agent", $"Mozilla/5.0 (X11; Linux x86_64; rv:{100 + i}.0) Gecko/20100101 Firefox/{100 + i}.0");
            using var response = await client.SendAsync(request);
            Assert.Equal(HttpStatusCode.NoContent, response.StatusCode);
        }
        // The burst of 3, plus at most what refilled at 1/s while the loop ran.
        Assert.InRange(parser.Evaluations - before, 3, 3 + 10);
        Assert.True((await client.GetJsonAsync("/api/apps/shop/counts")).Count("browser", "unparsed") > 0);
    }
}

public sealed class SearchLimitTests
{
    [Fact]
    public async Task A_search_past_its_time_is_stopped_and_answered_503()
    {
        using var folder = new TempFolder();
        await using var factory = LookoutFactory.Sqlite(folder.File("s.db"), new Dictionary<string, string> { ["Lookout:Read:SearchTimeout"] = "00:00:00.050" });
        using var client = factory.CreateClient();
        // Long page paths, so each wildcard has a lot of text to scan.
        var path = new string('p', 1500);
        for (var batch = 0; batch < 200; batch++)
        {
            var body = "[" + string.Join(",", Enumerable.Range(0, 30).Select(i =>
                $$$"""{"type":"csp-violation","age":1,"url":"https://shop.example/","body":{"documentURL":"https://shop.example/{{{path}}}/{{{batch}}}/{{{i}}}","blockedURL":"https://cdn{{{i}}}.b{{{batch}}}.example/x.js","effectiveDirective":"script-src-elem","disposition":"report"}}""")) + "]";
            using var response = await client.PostReportAsync("/r/big", body, "application/reports+json");
            Assert.Equal(HttpStatusCode.NoContent, response.StatusCode);
        }
        // 64 OR'd wildcards matching nothing: each of the 6 000 rows' 1.5 KB URLs is scanned for every one of them.
        var q = string.Join(" OR ", Enumerable.Range(0, 64).Select(i => $"url:*nothing{i}*"));
        using var slow = await client.GetAsync("/api/apps/big/reports?q=" + Uri.EscapeDataString(q));
        Assert.Equal(HttpStatusCode.ServiceUnavailable, slow.StatusCode);
        Assert.Contains("search_timeout", await slow.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }
}

public sealed class AdmissionStorageTests
{
    // A read side whose database is away: every call fails as storage does when it cannot be reached.
    private sealed class AwayReader : Lookout.Silo.Storage.IReportReader
    {
        private static Task<T> Away<T>() => Task.FromException<T>(new Lookout.Grains.Storage.StorageUnavailableException("database away (test)"));
        public Task<IReadOnlyList<Lookout.Silo.Storage.AppSummary>> GetAppsAsync(CancellationToken cancellationToken) => Away<IReadOnlyList<Lookout.Silo.Storage.AppSummary>>();
        public Task<IReadOnlyList<Lookout.Silo.Storage.AppSummary>> GetAppsPageAsync(int limit, string? after, CancellationToken cancellationToken) => Away<IReadOnlyList<Lookout.Silo.Storage.AppSummary>>();
        public Task<bool> AppExistsAsync(string app, CancellationToken cancellationToken) => Away<bool>();
        public Task<IReadOnlyList<Lookout.Grains.Counting.BucketRow>> GetTotalsAsync(IReadOnlyList<string> apps, DateTimeOffset since, DateTimeOffset until, CancellationToken cancellationToken) => Away<IReadOnlyList<Lookout.Grains.Counting.BucketRow>>();
        public Task<IReadOnlyList<Lookout.Grains.Counting.CountRow>> GetCountsAsync(string app, DateTimeOffset since, DateTimeOffset until, CancellationToken cancellationToken) => Away<IReadOnlyList<Lookout.Grains.Counting.CountRow>>();
        public Task<IReadOnlyList<Lookout.Grains.Counting.BucketRow>> GetBucketsAsync(string app, string dimension, DateTimeOffset since, DateTimeOffset until, CancellationToken cancellationToken) => Away<IReadOnlyList<Lookout.Grains.Counting.BucketRow>>();
        public Task<IReadOnlyList<Lookout.Silo.Storage.StoredReport>> SearchAsync(Lookout.Silo.Search.SearchRequest request, CancellationToken cancellationToken) => Away<IReadOnlyList<Lookout.Silo.Storage.StoredReport>>();
        public Task<Lookout.Silo.Storage.StoredReport?> GetReportAsync(Guid id, CancellationToken cancellationToken) => Away<Lookout.Silo.Storage.StoredReport?>();
        public Task<IReadOnlyList<Lookout.Grains.Policy.PolicyReport>> GetPolicyReportsAsync(string app, DateTimeOffset since, DateTimeOffset until, Lookout.Silo.Storage.PolicyCursor before, string? disposition, int limit, CancellationToken cancellationToken) => Away<IReadOnlyList<Lookout.Grains.Policy.PolicyReport>>();
        public Task<string?> GetNewestPolicyAsync(string app, DateTimeOffset since, DateTimeOffset until, string? disposition, CancellationToken cancellationToken) => Away<string?>();
        public Task PingAsync(CancellationToken cancellationToken) => Away<bool>();
    }

    [Fact]
    public async Task A_new_application_whose_existence_cannot_be_read_gets_503_not_a_refusal()
    {
        using var folder = new TempFolder();
        await using var factory = LookoutFactory.Sqlite(folder.File("a.db"));
        using var client = factory.WithWebHostBuilder(b => b.ConfigureTestServices(s => s.AddSingleton<Lookout.Silo.Storage.IReportReader, AwayReader>())).CreateClient();
        using var response = await client.PostReportAsync("/r/brand-new", HttpHelpers.Csp("https://a.example/", "inline", "script-src"));
        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        Assert.Contains("unavailable", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.NotNull(response.Headers.RetryAfter);
    }
}
