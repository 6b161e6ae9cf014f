// Every ingest limit answers a precise 4xx (or truncates), and what it refuses is counted under `dropped`.
using System.Net;
using System.Text;
using Lookout.Api.Ingest;
using Lookout.Tests.Shared;

namespace Lookout.Api.Tests;

public sealed class LimitsTests
{
    private static string Batch(int reports, string host = "cdn.example") => "[" + string.Join(",", Enumerable.Range(0, reports).Select(i =>
        $$$"""{"type":"csp-violation","url":"https://site.example/p{{{i}}}","age":1,"body":{"documentURL":"https://site.example/p{{{i}}}","blockedURL":"https://{{{host}}}/s.js","effectiveDirective":"script-src-elem","disposition":"enforce"}}""")) + "]";

    // Dropped counts ride with the next group commit (not durable when the refusal is answered): poll briefly.
    /// <summary>Polls an application's dropped counter until it reads the expected value (refusals ride with the next commit).</summary>
    internal static async Task<long> DroppedAsync(HttpClient client, string app, string reason, long expected)
    {
        long seen = 0;
        for (var i = 0; i < 50; i++)
        {
            seen = (await client.GetJsonAsync($"/api/apps/{app}/counts")).Count("dropped", reason);
            if (seen == expected) break;
            await Task.Delay(100);
        }
        return seen;
    }

    [Fact]
    public async Task A_batch_over_the_limit_is_refused_whole_with_413_and_counted()
    {
        using var folder = new TempFolder();
        await using var factory = LookoutFactory.Sqlite(folder.File("l.db"), new Dictionary<string, string> { ["Lookout:Ingest:MaxReportsPerBatch"] = "10" });
        using var client = factory.CreateClient();

        using (var ok = await client.PostReportAsync("/r/batch", Batch(10), "application/reports+json")) Assert.Equal(HttpStatusCode.NoContent, ok.StatusCode);
        using var refused = await client.PostReportAsync("/r/batch", Batch(11), "application/reports+json");
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, refused.StatusCode);
        Assert.Equal("application/problem+json", refused.Content.Headers.ContentType?.MediaType);
        Assert.Contains("too_many_reports", await refused.Content.ReadAsStringAsync(), StringComparison.Ordinal);

        Assert.Equal(11, await DroppedAsync(client, "batch", "rejected:too_many_reports", 11));
        Assert.Equal(10, (await client.GetJsonAsync("/api/apps/batch/counts")).GetProperty("total").GetInt64());
    }

    [Theory]
    [InlineData(new byte[] { 0x7B, 0x22, 0x61, 0x22, 0x3A, 0x22, 0xFF, 0x22, 0x7D })]       // {"a":"\xFF"}
    [InlineData(new byte[] { 0x5B, 0x7B, 0x22, 0xED, 0xA0, 0x80, 0x22, 0x3A, 0x31, 0x7D, 0x5D })] // encoded lone surrogate as a key
    public async Task Invalid_utf8_is_refused_with_400_and_counted(byte[] body)
    {
        using var folder = new TempFolder();
        await using var factory = LookoutFactory.Sqlite(folder.File("l.db"));
        using var client = factory.CreateClient();
        using var response = await client.PostReportAsync("/r/utf", body, "application/reports+json");
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("invalid_utf8", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        // "utf" has nothing stored: the refusal is counted in the bucket of unknown applications.
        Assert.Equal(1, await DroppedAsync(client, "*", "rejected:invalid_utf8", 1));
    }

    [Fact]
    public async Task Long_fields_are_cut_and_flagged_not_refused()
    {
        using var folder = new TempFolder();
        await using var factory = LookoutFactory.Sqlite(folder.File("l.db"));
        await AssertLongFieldsAreCutAsync(factory);
    }

    [SkippableFact]
    public async Task Long_fields_are_cut_and_flagged_on_postgres_where_indexed_columns_have_a_size_limit()
    {
        await using var db = await TestPostgres.CreateDatabaseAsync();
        await using var factory = LookoutFactory.Postgres(db.ConnectionString);
        await AssertLongFieldsAreCutAsync(factory);
    }

    private static async Task AssertLongFieldsAreCutAsync(LookoutFactory factory)
    {
        using var client = factory.CreateClient();
        // A 9 000-character host and directive: PostgreSQL refuses btree entries over ~2.7 KB, so uncut
        // values would fail the whole commit.
        var host = string.Join(".", Enumerable.Repeat(new string('h', 60), 150)) + ".example";
        var directive = "script-src" + new string('x', 9_000);
        var sample = string.Concat(Enumerable.Repeat("\U0001F600", 3_000)); // surrogate pairs across the cut
        var body = $$$"""{"csp-report":{"document-uri":"https://site.example/{{{new string('p', 9_000)}}}","blocked-uri":"https://{{{host}}}/x.js","violated-directive":"{{{directive}}}","script-sample":"{{{sample}}}"}}""";
        using var response = await client.PostReportAsync("/r/long", body);
        Assert.Equal(HttpStatusCode.NoContent, response.StatusCode);

        var page = await client.GetJsonAsync("/api/apps/long/reports?q=" + Uri.EscapeDataString("truncated:true"));
        var report = Assert.Single(page.GetProperty("reports").EnumerateArray());
        Assert.True(report.GetProperty("truncated").GetBoolean());
        Assert.Equal(255, report.GetProperty("blocked_host").GetString()!.Length);
        Assert.Equal(128, report.GetProperty("violated_directive").GetString()!.Length);
        Assert.True(report.GetProperty("url").GetString()!.Length <= 2048);
        var cutSample = report.GetProperty("sample").GetString()!;
        Assert.True(cutSample.Length <= 2048);
        Assert.False(char.IsHighSurrogate(cutSample[^1]));
        Assert.Empty((await client.GetJsonAsync("/api/apps/long/reports?q=" + Uri.EscapeDataString("truncated:false"))).GetProperty("reports").EnumerateArray());
    }

    [Fact]
    public async Task A_body_that_arrives_too_slowly_gets_408_and_is_counted()
    {
        using var folder = new TempFolder();
        await using var factory = LookoutFactory.Sqlite(folder.File("l.db"), new Dictionary<string, string> { ["Lookout:Ingest:BodyTimeout"] = "00:00:01" });
        // Kestrel, not the in-memory server (which buffers request bodies): the body must really trickle.
        factory.UseKestrel(0);
        using var client = factory.CreateClient();
        // Raw TCP: headers and the first bytes of the body now, the rest never (an HTTP client library
        // may hold a partial body in its buffers).
        var body = Encoding.UTF8.GetBytes(HttpHelpers.Csp("https://a.example/", "inline", "script-src"));
        using var tcp = new System.Net.Sockets.TcpClient();
        await tcp.ConnectAsync(client.BaseAddress!.Host, client.BaseAddress.Port);
        var stream = tcp.GetStream();
        await stream.WriteAsync(Encoding.ASCII.GetBytes($"POST /r/slow HTTP/1.1\r\nHost: lookout\r\nContent-Type: application/csp-report\r\nContent-Length: {body.Length}\r\n\r\n"));
        await stream.WriteAsync(body.AsMemory(0, 5));
        await stream.FlushAsync();
        using var reader = new StreamReader(stream, Encoding.ASCII);
        var statusLine = await reader.ReadLineAsync().WaitAsync(TimeSpan.FromSeconds(20));
        Assert.StartsWith("HTTP/1.1 408", statusLine, StringComparison.Ordinal);
        Assert.Equal(1, await DroppedAsync(client, "*", "rejected:timeout", 1));
    }

    [Fact]
    public async Task A_flood_to_one_application_does_not_reduce_what_another_gets_accepted()
    {
        using var folder = new TempFolder();
        await using var factory = LookoutFactory.Sqlite(folder.File("l.db"), new Dictionary<string, string>
        {
            ["Lookout:RateLimits:PerApp:PerSecond"] = "5",
            ["Lookout:RateLimits:PerApp:Burst"] = "20",
        });
        using var client = factory.CreateClient();

        var flood = Enumerable.Range(0, 200).Select(async _ =>
        {
            using var r = await client.PostReportAsync("/r/flood", HttpHelpers.Csp("https://f.example/", "inline", "script-src"));
            if (r.StatusCode == HttpStatusCode.TooManyRequests)
            {
                Assert.True(r.Headers.RetryAfter?.Delta >= TimeSpan.FromSeconds(1));
                Assert.Contains("rate_limited", await r.Content.ReadAsStringAsync(), StringComparison.Ordinal);
            }
            return r.StatusCode;
        }).ToArray();
        // The quiet application sends within its own bucket while the flood runs.
        var quiet = Enumerable.Range(0, 15).Select(async i =>
        {
            using var r = await client.PostReportAsync("/r/quiet", HttpHelpers.Csp($"https://q.example/{i}", "inline", "script-src"));
            return r.StatusCode;
        }).ToArray();
        var floodStatuses = await Task.WhenAll(flood);
        var quietStatuses = await Task.WhenAll(quiet);

        Assert.All(quietStatuses, s => Assert.Equal(HttpStatusCode.NoContent, s));
        var accepted = floodStatuses.Count(s => s == HttpStatusCode.NoContent);
        var limited = floodStatuses.Count(s => s == HttpStatusCode.TooManyRequests);
        Assert.Equal(200, accepted + limited);
        Assert.InRange(accepted, 20, 60); // the burst, plus what 5/s refilled while the flood ran
        Assert.Equal(limited, await DroppedAsync(client, "flood", "rate_limited:app", limited));
        Assert.Equal(accepted, (await client.GetJsonAsync("/api/apps/flood/counts")).GetProperty("total").GetInt64());
        Assert.Equal(15, (await client.GetJsonAsync("/api/apps/quiet/counts")).GetProperty("total").GetInt64());
    }

    [Fact]
    public async Task The_per_client_limit_refuses_before_reading_and_can_be_switched_off()
    {
        using var folder = new TempFolder();
        await using var limited = LookoutFactory.Sqlite(folder.File("a.db"), new Dictionary<string, string>
        {
            ["Lookout:RateLimits:PerClient:Enabled"] = "true",
            ["Lookout:RateLimits:PerClient:PerSecond"] = "1",
            ["Lookout:RateLimits:PerClient:Burst"] = "5",
        });
        using var client = limited.CreateClient();
        var statuses = new List<HttpStatusCode>();
        for (var i = 0; i < 8; i++)
        {
            using var r = await client.PostReportAsync("/r/client", HttpHelpers.Csp("https://c.example/", "inline", "script-src"));
            statuses.Add(r.StatusCode);
        }
        Assert.Equal(5, statuses.Count(s => s == HttpStatusCode.NoContent));
        Assert.Equal(3, statuses.Count(s => s == HttpStatusCode.TooManyRequests));
        Assert.Equal(3, await DroppedAsync(client, "client", "rate_limited:client", 3));

        await using var open = LookoutFactory.Sqlite(folder.File("b.db"), new Dictionary<string, string> { ["Lookout:RateLimits:PerClient:PerSecond"] = "1", ["Lookout:RateLimits:PerClient:Burst"] = "1" });
        using var openClient = open.CreateClient();
        for (var i = 0; i < 8; i++)
        {
            using var r = await openClient.PostReportAsync("/r/client", HttpHelpers.Csp("https://c.example/", "inline", "script-src"));
            Assert.Equal(HttpStatusCode.NoContent, r.StatusCode);
        }
    }

    [Theory]
    [InlineData("203.0.113.7", "203.0.113.7")]
    [InlineData("::ffff:203.0.113.7", "203.0.113.7")]
    [InlineData("2001:db8:1:2:aaaa:bbbb:cccc:dddd", "2001:db8:1:2::/64")]
    [InlineData("2001:db8:1:2::1", "2001:db8:1:2::/64")]
    public void Client_addresses_share_a_bucket_per_ipv4_address_and_per_ipv6_64(string address, string key)
        => Assert.Equal(key, IngestRateLimiter.ClientKey(IPAddress.Parse(address)));

    [Fact]
    public async Task A_daily_quota_stores_up_to_the_limit_counts_the_rest_and_survives_a_restart()
    {
        using var folder = new TempFolder();
        var settings = new Dictionary<string, string> { ["Lookout:Quota:Apps:capped"] = "5" };
        await using (var factory = LookoutFactory.Sqlite(folder.File("q.db"), settings))
        {
            using var client = factory.CreateClient();
            for (var i = 0; i < 4; i++)
            {
                using var r = await client.PostReportAsync("/r/capped", HttpHelpers.Csp($"https://a.example/{i}", "inline", "script-src"));
                Assert.Equal(HttpStatusCode.NoContent, r.StatusCode);
            }
            // A batch of three crosses the limit: one fits, two are counted over quota; still 204, so a
            // browser does not retry what will not be stored.
            using (var r = await client.PostReportAsync("/r/capped", Batch(3), "application/reports+json")) Assert.Equal(HttpStatusCode.NoContent, r.StatusCode);
            using (var r = await client.PostReportAsync("/r/free", Batch(8), "application/reports+json")) Assert.Equal(HttpStatusCode.NoContent, r.StatusCode);
            var counts = await client.GetJsonAsync("/api/apps/capped/counts");
            Assert.Equal(5, counts.GetProperty("total").GetInt64());
            Assert.Equal(2, counts.Count("dropped", "over_quota"));
            Assert.Equal(8, (await client.GetJsonAsync("/api/apps/free/counts")).GetProperty("total").GetInt64());
        }
        // A new process reads what is stored today before accepting more.
        await using (var factory = LookoutFactory.Sqlite(folder.File("q.db"), settings))
        {
            using var client = factory.CreateClient();
            using (var r = await client.PostReportAsync("/r/capped", HttpHelpers.Csp("https://a.example/late", "inline", "script-src"))) Assert.Equal(HttpStatusCode.NoContent, r.StatusCode);
            var counts = await client.GetJsonAsync("/api/apps/capped/counts");
            Assert.Equal(5, counts.GetProperty("total").GetInt64());
            Assert.Equal(3, counts.Count("dropped", "over_quota"));
        }
    }
}
