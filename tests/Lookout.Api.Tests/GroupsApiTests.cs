// Groups and alerts over HTTP on both storages, with a real webhook receiver on loopback: ten reports of three
// problems make three groups and three new_group alerts, a resolve and a report again one regression, all of it
// survives a restart; retries, idempotency keys, coalescing, the address rule and bad requests.
using System.Net;
using System.Text;
using System.Text.Json;
using Lookout.Tests.Shared;

namespace Lookout.Api.Tests;

public sealed class GroupsApiTests : IDisposable
{
    private readonly TempFolder _folder = new();

    // Delivery in tests: loopback allowed, short waits.
    private static Dictionary<string, string> Fast(Dictionary<string, string>? more = null)
    {
        var settings = new Dictionary<string, string>
        {
            ["Lookout:Alerts:AllowPrivateTargets"] = "true",
            ["Lookout:Alerts:PollInterval"] = "00:00:00.100",
            ["Lookout:Alerts:CoalesceWindow"] = "00:00:00.500",
            ["Lookout:Alerts:FirstRetryDelay"] = "00:00:00.200",
        };
        foreach (var (k, v) in more ?? []) settings[k] = v;
        return settings;
    }

    private static string Report(string page, string blocked, string directive) => HttpHelpers.Csp("https://shop.example" + page, blocked, directive);

    private static async Task TenReportsAsync(HttpClient client)
    {
        for (var i = 0; i < 4; i++) (await client.PostReportAsync("/r/shop", Report("/p" + i, "https://cdn.evil.example/x.js", "script-src-elem"))).EnsureSuccessStatusCode();
        for (var i = 0; i < 3; i++) (await client.PostReportAsync("/r/shop", Report("/checkout", "inline", "script-src-elem"))).EnsureSuccessStatusCode();
        for (var i = 0; i < 3; i++) (await client.PostReportAsync("/r/shop", Report("/", "data", "img-src"))).EnsureSuccessStatusCode();
    }

    private static async Task<string> AddWebhookAsync(HttpClient client, string url, string body = "")
    {
        var json = body.Length > 0 ? body : JsonSerializer.Serialize(new { url });
        var response = await client.PostAsync("/api/apps/shop/webhooks", new StringContent(json, Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        using var doc = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        return doc.RootElement.GetProperty("id").GetString()!;
    }

    private static Task<HttpResponseMessage> PatchAsync(HttpClient client, string path, string json)
        => client.PatchAsync(path, new StringContent(json, Encoding.UTF8, "application/json"));

    private static Dictionary<string, JsonElement> ByTitle(JsonElement groups)
        => groups.GetProperty("groups").EnumerateArray().ToDictionary(g => g.GetProperty("title").GetString()!);

    private static async Task ScenarioAsync(Func<LookoutFactory> start)
    {
        using var receiver = new WebhookReceiver();
        string inlineId;
        using (var factory = start())
        using (var client = factory.CreateClient())
        {
            await AddWebhookAsync(client, receiver.Url);
            await TenReportsAsync(client);

            var groups = ByTitle(await client.GetJsonAsync("/api/apps/shop/groups?sort=count"));
            Assert.Equal(["img-src blocked data:", "script-src-elem blocked cdn.evil.example", "script-src-elem blocked inline"], groups.Keys.Order());
            Assert.Equal(4, groups["script-src-elem blocked cdn.evil.example"].GetProperty("count").GetInt64());
            Assert.Equal(3, groups["script-src-elem blocked inline"].GetProperty("count").GetInt64());
            Assert.Equal(3, groups["img-src blocked data:"].GetProperty("count").GetInt64());
            Assert.Equal(4, groups["script-src-elem blocked cdn.evil.example"].GetProperty("pages").GetInt64());
            inlineId = groups["script-src-elem blocked inline"].GetProperty("id").GetString()!;

            // Exactly one new_group per group, within 10 s of the 204s.
            Assert.True(await receiver.WaitForAsync(r => r.Events.Count >= 3, TimeSpan.FromSeconds(10)), "three new_group alerts within 10 s");
            await Task.Delay(1000);
            Assert.Equal(groups.Values.Select(g => g.GetProperty("id").GetString()).Order(),
                receiver.Events.Select(e => e.GetProperty("group").GetProperty("id").GetString()).Order());
            Assert.All(receiver.Events, e => Assert.Equal("new_group", e.GetProperty("kind").GetString()));

            var resolved = await PatchAsync(client, $"/api/apps/shop/groups/{inlineId}", """{"status":"resolved"}""");
            resolved.EnsureSuccessStatusCode();
            Assert.Equal("resolved", (await client.GetJsonAsync($"/api/apps/shop/groups/{inlineId}")).GetProperty("group").GetProperty("status").GetString());
            (await client.PostReportAsync("/r/shop", Report("/checkout", "inline", "script-src-elem"))).EnsureSuccessStatusCode();
            Assert.True(await receiver.WaitForAsync(r => r.Events.Count >= 4, TimeSpan.FromSeconds(10)), "one regression within 10 s");
            await Task.Delay(1000);
            var regression = Assert.Single(receiver.Events, e => e.GetProperty("kind").GetString() == "regression");
            Assert.Equal(inlineId, regression.GetProperty("group").GetProperty("id").GetString());
            Assert.Equal(4, receiver.Events.Count);
        }

        // A restart: groups, counts and statuses come back from storage; nothing is announced again.
        using (var factory = start())
        using (var client = factory.CreateClient())
        {
            var groups = ByTitle(await client.GetJsonAsync("/api/apps/shop/groups"));
            var inline = groups["script-src-elem blocked inline"];
            Assert.Equal((4L, "open"), (inline.GetProperty("count").GetInt64(), inline.GetProperty("status").GetString()));
            Assert.NotEqual(JsonValueKind.Null, inline.GetProperty("regressed_at").ValueKind);
            Assert.Equal(3, groups.Count);

            var detail = await client.GetJsonAsync($"/api/apps/shop/groups/{inlineId}");
            Assert.Equal(4, detail.GetProperty("reports").GetArrayLength());
            Assert.All(detail.GetProperty("reports").EnumerateArray(), r => Assert.Equal(inlineId, r.GetProperty("group").GetString()));
            var found = await client.GetJsonAsync("/api/apps/shop/reports?q=" + Uri.EscapeDataString(detail.GetProperty("query").GetString()!));
            Assert.Equal(4, found.GetProperty("reports").GetArrayLength());

            (await client.PostReportAsync("/r/shop", Report("/checkout", "inline", "script-src-elem"))).EnsureSuccessStatusCode();
            await Task.Delay(1500);
            Assert.Equal(4, receiver.Events.Count);

            var filtered = await client.GetJsonAsync("/api/apps/shop/groups?q=INLINE&status=open");
            Assert.Equal(inlineId, Assert.Single(filtered.GetProperty("groups").EnumerateArray()).GetProperty("id").GetString());
        }
    }

    [Fact]
    public async Task Three_problems_three_groups_one_alert_each_one_regression_and_a_restart_on_SQLite()
    {
        var file = _folder.File("lookout.db");
        await ScenarioAsync(() => LookoutFactory.Sqlite(file, Fast()));
    }

    [SkippableFact]
    public async Task Three_problems_three_groups_one_alert_each_one_regression_and_a_restart_on_PostgreSQL()
    {
        await using var database = await TestPostgres.CreateDatabaseAsync();
        await ScenarioAsync(() => LookoutFactory.Postgres(database.ConnectionString, Fast()));
    }

    [Fact]
    public async Task Deliveries_are_retried_after_503s_with_one_idempotency_key_and_logged()
    {
        using var receiver = new WebhookReceiver { FailFirst = 2 };
        using var factory = LookoutFactory.Sqlite(_folder.File("lookout.db"), Fast());
        using var client = factory.CreateClient();
        var hook = await AddWebhookAsync(client, receiver.Url);
        (await client.PostReportAsync("/r/shop", Report("/", "https://cdn.evil.example/x.js", "script-src-elem"))).EnsureSuccessStatusCode();

        Assert.True(await receiver.WaitForAsync(r => r.Requests.Count >= 3, TimeSpan.FromSeconds(15)), "two 503s and a success");
        var requests = receiver.Requests;
        Assert.Equal([503, 503, 204], requests.Select(r => r.Status));
        Assert.Single(requests.Select(r => r.IdempotencyKey).Distinct());
        Assert.Equal(["1", "2", "3"], requests.Select(r => r.Attempt));
        JsonElement delivery = default;
        Assert.True(await Eventually(async () =>
        {
            var log = await client.GetJsonAsync($"/api/apps/shop/webhooks/{hook}/deliveries");
            delivery = Assert.Single(log.GetProperty("deliveries").EnumerateArray());
            return delivery.GetProperty("status").GetString() == "delivered";
        }));
        Assert.Equal((3, 204, requests[0].IdempotencyKey), (delivery.GetProperty("attempts").GetInt32(), delivery.GetProperty("status_code").GetInt32(),
            delivery.GetProperty("id").GetString()));
        Assert.Equal(["new_group"], delivery.GetProperty("events").EnumerateArray().Select(e => e.GetString()));
    }

    [Fact]
    public async Task A_burst_of_a_thousand_new_groups_arrives_as_a_few_messages()
    {
        using var receiver = new WebhookReceiver();
        using var factory = LookoutFactory.Sqlite(_folder.File("lookout.db"), Fast(new() { ["Lookout:Alerts:CoalesceWindow"] = "00:00:02" }));
        using var client = factory.CreateClient();
        await AddWebhookAsync(client, receiver.Url);
        // Ten batches of a hundred reports, each from its own host: a thousand new problems in about a second.
        for (var batch = 0; batch < 10; batch++)
        {
            var reports = Enumerable.Range(0, 100).Select(i => new
            {
                type = "csp-violation",
                url = "https://shop.example/",
                body = new { blockedURL = $"https://h{batch * 100 + i}.example/x.js", effectiveDirective = "script-src-elem", disposition = "enforce" },
            });
            (await client.PostReportAsync("/r/shop", JsonSerializer.Serialize(reports), "application/reports+json")).EnsureSuccessStatusCode();
        }
        Assert.True(await receiver.WaitForAsync(r => r.Events.Count >= 1001, TimeSpan.FromSeconds(20)), $"1001 events, got {receiver.Events.Count}");
        await Task.Delay(1000);
        var events = receiver.Events;
        Assert.Equal(1000, events.Where(e => e.GetProperty("kind").GetString() == "new_group").Select(e => e.GetProperty("id").GetString()).Distinct().Count());
        // A thousand reports in ten minutes with nothing before: the application as a whole spiked, once.
        var spike = Assert.Single(events, e => e.GetProperty("kind").GetString() == "spike");
        Assert.False(spike.TryGetProperty("group", out _));
        Assert.Equal(1001, events.Count);
        Assert.InRange(receiver.Requests.Count, 4, 8);
    }

    [Theory]
    [InlineData("""{"url":"http://127.0.0.1:9/hook"}""", "invalid_webhook")]
    [InlineData("""{"url":"http://169.254.169.254/latest/meta-data"}""", "invalid_webhook")]
    [InlineData("""{"url":"http://[::1]/hook"}""", "invalid_webhook")]
    [InlineData("""{"url":"http://10.1.2.3/hook"}""", "invalid_webhook")]
    [InlineData("""{"url":"ftp://hooks.example/x"}""", "invalid_webhook")]
    [InlineData("""{"url":"https://user:pw@hooks.example/x"}""", "invalid_webhook")]
    [InlineData("""{"url":"https://hooks.example/x","format":"xml"}""", "invalid_webhook")]
    [InlineData("""{"url":"https://hooks.example/x","events":["everything"]}""", "invalid_webhook")]
    [InlineData("""{"url":"https://hooks.example/x","events":[]}""", "invalid_webhook")]
    [InlineData("""[1,2]""", "invalid_json")]
    [InlineData("""null""", "invalid_json")]
    public async Task Webhooks_to_private_addresses_and_malformed_ones_are_refused(string body, string reason)
    {
        using var factory = LookoutFactory.Sqlite(_folder.File("lookout.db"));
        using var client = factory.CreateClient();
        var response = await client.PostAsync("/api/apps/shop/webhooks", new StringContent(body, Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        using var doc = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.Equal(reason, doc.RootElement.GetProperty("reason").GetString());
        Assert.Empty((await client.GetJsonAsync("/api/apps/shop/webhooks")).GetProperty("webhooks").EnumerateArray());
    }

    [Fact]
    public async Task Bad_group_requests_get_problems_and_webhooks_are_listed_and_deleted()
    {
        using var factory = LookoutFactory.Sqlite(_folder.File("lookout.db"), Fast());
        using var client = factory.CreateClient();
        await TenReportsAsync(client);
        var id = (await client.GetJsonAsync("/api/apps/shop/groups")).GetProperty("groups")[0].GetProperty("id").GetString()!;

        Assert.Equal(HttpStatusCode.BadRequest, (await PatchAsync(client, $"/api/apps/shop/groups/{id}", """{"status":"fixed"}""")).StatusCode);
        Assert.Equal(HttpStatusCode.UnsupportedMediaType, (await client.PatchAsync($"/api/apps/shop/groups/{id}", new StringContent("status=resolved"))).StatusCode);
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, (await PatchAsync(client, $"/api/apps/shop/groups/{id}", "{\"status\":\"" + new string('x', 9000) + "\"}")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await PatchAsync(client, "/api/apps/shop/groups/0123456789abcdef", """{"status":"resolved"}""")).StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, (await client.GetAsync("/api/apps/shop/groups/not-a-group")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await client.GetAsync("/api/apps/shop/groups/0123456789abcdef")).StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, (await client.GetAsync("/api/apps/shop/groups?sort=random")).StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, (await client.GetAsync("/api/apps/shop/groups?status=gone")).StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, (await client.GetAsync("/api/apps/shop/groups?limit=0")).StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, (await client.GetAsync("/api/apps/shop/reports?q=group:xyz")).StatusCode);

        // Ignored groups sort last and pages follow "next".
        (await PatchAsync(client, $"/api/apps/shop/groups/{id}", """{"status":"ignored"}""")).EnsureSuccessStatusCode();
        var first = await client.GetJsonAsync("/api/apps/shop/groups?limit=2");
        Assert.Equal(3, first.GetProperty("total").GetInt32());
        var next = first.GetProperty("next").GetString();
        var second = await client.GetJsonAsync("/api/apps/shop/groups?limit=2&next=" + next);
        Assert.Equal(id, Assert.Single(second.GetProperty("groups").EnumerateArray()).GetProperty("id").GetString());
        Assert.Equal(JsonValueKind.Null, second.GetProperty("next").ValueKind);

        var hook = await AddWebhookAsync(client, "http://127.0.0.1:9/hook", """{"url":"http://127.0.0.1:9/hook","events":["spike"],"format":"slack"}""");
        var listed = Assert.Single((await client.GetJsonAsync("/api/apps/shop/webhooks")).GetProperty("webhooks").EnumerateArray());
        Assert.Equal((hook, "slack"), (listed.GetProperty("id").GetString(), listed.GetProperty("format").GetString()));
        Assert.Equal(["spike"], listed.GetProperty("events").EnumerateArray().Select(e => e.GetString()));
        Assert.Equal(HttpStatusCode.NoContent, (await client.DeleteAsync($"/api/apps/shop/webhooks/{hook}")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await client.DeleteAsync($"/api/apps/shop/webhooks/{hook}")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await client.GetAsync($"/api/apps/shop/webhooks/{hook}/deliveries")).StatusCode);
    }

    private static async Task<bool> Eventually(Func<Task<bool>> condition)
    {
        for (var i = 0; i < 100; i++)
        {
            if (await condition()) return true;
            await Task.Delay(100);
        }
        return false;
    }

    public void Dispose() => _folder.Dispose();
}
