// The policy tools over HTTP on both storages: the scenario end to end, and bad requests.
using System.Net;
using System.Text;
using System.Text.Json;
using Lookout.Tests.Shared;

namespace Lookout.Api.Tests;

public sealed class PolicyApiTests : IDisposable
{
    private const string Original = "default-src 'self'; report-uri /r/shop";
    private readonly TempFolder _folder = new();

    private static string Report(string page, string blocked, string directive, string? sample = null) => JsonSerializer.Serialize(new Dictionary<string, object>
    {
        ["csp-report"] = new Dictionary<string, object?>
        {
            ["document-uri"] = "https://shop.example" + page,
            ["blocked-uri"] = blocked,
            ["effective-directive"] = directive,
            ["violated-directive"] = directive,
            ["original-policy"] = Original,
            ["disposition"] = "report",
            ["script-sample"] = sample,
        },
    });

    // Scripts from two CDNs, an inline script on one page, a data: image, and an extension's noise.
    private static async Task SeedAsync(HttpClient client)
    {
        string[] bodies =
        [
            Report("/", "https://cdn.one.net/lib.js", "script-src-elem"),
            Report("/cart", "https://cdn.one.net/lib.js", "script-src-elem"),
            Report("/", "https://static.two.com/app.js", "script-src-elem"),
            Report("/checkout", "inline", "script-src-elem", "window.dataLayer=[]"),
            Report("/", "data", "img-src"),
            Report("/", "chrome-extension://abcdefghijklmnop/x.js", "script-src-elem"),
        ];
        foreach (var body in bodies) (await client.PostReportAsync("/r/shop", body)).EnsureSuccessStatusCode();
    }

    private static async Task ScenarioAsync(HttpClient client)
    {
        await SeedAsync(client);
        var s = await client.GetJsonAsync("/api/apps/shop/policy/suggest?since=7d&disposition=report");
        var policy = s.GetProperty("policy").GetString()!;
        Assert.Equal("default-src 'self'; report-uri /r/shop; img-src 'self' data:; script-src 'self' https://cdn.one.net https://static.two.com", policy);
        Assert.Equal(Original, s.GetProperty("based_on").GetString());
        var scriptSources = s.GetProperty("directives").GetProperty("script-src").EnumerateArray().ToList();
        var one = scriptSources.Single(x => x.GetProperty("source").GetString() == "https://cdn.one.net");
        Assert.Equal(2, one.GetProperty("reports").GetInt64());
        Assert.True(one.GetProperty("added").GetBoolean());
        var inline = s.GetProperty("code").EnumerateArray().Single();
        Assert.Equal("inline_script", inline.GetProperty("kind").GetString());
        Assert.Equal(["/checkout"], inline.GetProperty("pages").EnumerateArray().Select(p => p.GetString()));
        Assert.Equal(["window.dataLayer=[]"], inline.GetProperty("samples").EnumerateArray().Select(p => p.GetString()));
        Assert.Contains(s.GetProperty("left_out").EnumerateArray(), l => l.GetProperty("source").GetString() == "'unsafe-inline'");
        Assert.Equal(1, s.GetProperty("noise").GetProperty("reports").GetInt64());
        Assert.Equal(5, s.GetProperty("reports").GetInt64());
        Assert.True(s.GetProperty("coverage").GetProperty("complete").GetBoolean());
        Assert.Equal(6, s.GetProperty("coverage").GetProperty("scanned").GetInt64());

        var all = await SimulateAsync(client, policy);
        Assert.Equal((5L, 4L, 1L, 0L), (all.GetProperty("reports").GetInt64(), all.GetProperty("allowed").GetInt64(),
            all.GetProperty("still_blocked").GetInt64(), all.GetProperty("unknown").GetInt64()));
        var stillBlocked = all.GetProperty("by_group").EnumerateArray().First();
        Assert.Equal(("script-src-elem", "inline"), (stillBlocked.GetProperty("directive").GetString(), stillBlocked.GetProperty("blocked").GetString()));

        var withoutTwo = await SimulateAsync(client, policy.Replace(" https://static.two.com", "", StringComparison.Ordinal));
        Assert.Equal(2, withoutTwo.GetProperty("still_blocked").GetInt64());
        var groups = withoutTwo.GetProperty("by_group").EnumerateArray().ToList();
        var two = groups.Single(g => g.GetProperty("blocked").GetString() == "static.two.com");
        Assert.Equal((1L, 0L), (two.GetProperty("still_blocked").GetInt64(), two.GetProperty("allowed").GetInt64()));
        Assert.Equal(0, groups.Single(g => g.GetProperty("blocked").GetString() == "cdn.one.net").GetProperty("still_blocked").GetInt64());
        var sample = two.GetProperty("samples").GetProperty("still_blocked").EnumerateArray().Single().GetString();
        var report = await client.GetJsonAsync("/api/reports/" + sample);
        Assert.Equal("https://static.two.com/app.js", report.GetProperty("blocked_url").GetString());
        Assert.Contains(sample, withoutTwo.GetProperty("samples").EnumerateArray().Select(x => x.GetString()));
        Assert.Empty(withoutTwo.GetProperty("unrecognized").EnumerateArray());

        // A misspelt directive is ignored by browsers, so the replay ignores it too, and says so.
        var typo = await SimulateAsync(client, "default-src 'self'; script-scr https://cdn.one.net");
        Assert.Equal(["script-scr"], typo.GetProperty("unrecognized").EnumerateArray().Select(x => x.GetString()));
        Assert.Equal(0, typo.GetProperty("allowed").GetInt64());
    }

    private static async Task<JsonElement> SimulateAsync(HttpClient client, string policy, string? since = "7d")
    {
        using var response = await client.PostAsync("/api/apps/shop/policy/simulate",
            new StringContent(JsonSerializer.Serialize(new { policy, since }), Encoding.UTF8, "application/json"));
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, text);
        return JsonDocument.Parse(text).RootElement.Clone();
    }

    [Fact]
    public async Task Suggest_and_simulate_on_SQLite()
    {
        using var factory = LookoutFactory.Sqlite(_folder.File("lookout.db"));
        using var client = factory.CreateClient();
        await ScenarioAsync(client);
    }

    [SkippableFact]
    public async Task Suggest_and_simulate_on_PostgreSQL()
    {
        await using var database = await TestPostgres.CreateDatabaseAsync();
        using var factory = LookoutFactory.Postgres(database.ConnectionString);
        using var client = factory.CreateClient();
        await ScenarioAsync(client);
    }

    [Fact]
    public async Task A_limit_replays_the_newest_reports_and_says_which_slice_it_covered()
    {
        using var factory = LookoutFactory.Sqlite(_folder.File("lookout.db"));
        using var client = factory.CreateClient();
        await SeedAsync(client);
        using var response = await client.PostAsync("/api/apps/shop/policy/simulate",
            new StringContent("""{"policy":"default-src 'self'","limit":2}""", Encoding.UTF8, "application/json"));
        var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
        var coverage = body.GetProperty("coverage");
        Assert.Equal((2L, false, "limit"), (coverage.GetProperty("scanned").GetInt64(), coverage.GetProperty("complete").GetBoolean(), coverage.GetProperty("stopped").GetString()));
        Assert.True(coverage.GetProperty("from").GetDateTime() > coverage.GetProperty("since").GetDateTime());
    }

    [Theory]
    [InlineData("""{"policy":""}""", "application/json", 400, "invalid_policy")]
    [InlineData("""{"policy":"not a policy at all !"}""", "application/json", 400, "invalid_policy")]
    [InlineData("""{"policy":"default-src 'self'","since":"yesterday"}""", "application/json", 400, "invalid_query")]
    [InlineData("""{"policy":"default-src 'self'","disposition":"sometimes"}""", "application/json", 400, "invalid_query")]
    [InlineData("""{"policy":"default-src 'self'","limit":0}""", "application/json", 400, "invalid_query")]
    [InlineData("""{"policy":""", "application/json", 400, "invalid_json")]
    [InlineData("""{"policy":"default-src 'self'"}""", "text/plain", 415, "unsupported_media_type")]
    public async Task Bad_drafts_get_a_problem(string body, string contentType, int status, string reason)
    {
        using var factory = LookoutFactory.Sqlite(_folder.File("lookout.db"));
        using var client = factory.CreateClient();
        await SeedAsync(client);
        using var response = await client.PostAsync("/api/apps/shop/policy/simulate", new StringContent(body, Encoding.UTF8, contentType));
        Assert.Equal(status, (int)response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal(reason, JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.GetProperty("reason").GetString());
    }

    [Fact]
    public async Task Oversized_bodies_unknown_apps_and_bad_queries_are_refused()
    {
        using var factory = LookoutFactory.Sqlite(_folder.File("lookout.db"));
        using var client = factory.CreateClient();
        await SeedAsync(client);
        var huge = JsonSerializer.Serialize(new { policy = "default-src " + new string('a', 70_000) });
        using (var response = await client.PostAsync("/api/apps/shop/policy/simulate", new StringContent(huge, Encoding.UTF8, "application/json")))
            Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
        using (var response = await client.GetAsync("/api/apps/nobody/policy/suggest"))
            Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        using (var response = await client.GetAsync("/api/apps/shop/policy/suggest?disposition=maybe"))
            Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        using (var response = await client.GetAsync("/api/apps/shop/policy/suggest?limit=-1"))
            Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        using (var page = await client.GetAsync("/apps/shop/policy"))
        {
            Assert.Equal(HttpStatusCode.OK, page.StatusCode);
            Assert.Contains("data-page=\"policy\"", await page.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }
    }

    public void Dispose() => _folder.Dispose();
}
