// The operator surface: Prometheus metrics (reasons, bounded app labels, access), the OpenAPI document
// against the mapped routes, Orleans' dashboard, and OTLP traces when an endpoint is set.
using System.Collections.Concurrent;
using System.Net;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using OpenTelemetry.Trace;

namespace Lookout.Api.Tests;

// OpenTelemetry listens to meters by name, and every host in this process names its meters alike: the metrics
// tests run alone, after the parallel ones, so no other test's requests are counted in their scrapes.
[CollectionDefinition("metrics", DisableParallelization = true)]
public sealed class MetricsCollection;

[Collection("metrics")]
public sealed partial class OperationsTests
{
    private const string Token = "s3cret-token-0123456789";

    /// <summary>One sample of the Prometheus text format.</summary>
    private sealed record Sample(string Name, IReadOnlyDictionary<string, string> Labels, double Value);

    [GeneratedRegex("""^(?<name>[a-zA-Z_:][a-zA-Z0-9_:]*)(\{(?<labels>.*)\})? (?<value>\S+)""")]
    private static partial Regex SampleLine();

    [GeneratedRegex("""(?<key>[a-zA-Z_][a-zA-Z0-9_]*)="(?<value>(?:[^"\\]|\\.)*)",?""")]
    private static partial Regex LabelPair();

    private static async Task<List<Sample>> ScrapeAsync(HttpClient client)
    {
        using var response = await client.GetAsync("/metrics");
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"/metrics: {(int)response.StatusCode} {text}");
        Assert.StartsWith("text/plain", response.Content.Headers.ContentType?.MediaType);
        var samples = new List<Sample>();
        foreach (var line in text.Split('\n'))
        {
            if (line.Length == 0 || line[0] == '#') continue;
            var match = SampleLine().Match(line);
            Assert.True(match.Success, "not a Prometheus sample: " + line);
            var labels = LabelPair().Matches(match.Groups["labels"].Value).ToDictionary(m => m.Groups["key"].Value, m => m.Groups["value"].Value);
            samples.Add(new Sample(match.Groups["name"].Value, labels, double.Parse(match.Groups["value"].Value, System.Globalization.CultureInfo.InvariantCulture)));
        }
        return samples;
    }

    private static double Value(List<Sample> samples, string name, params (string Key, string Value)[] labels)
        => samples.Where(s => s.Name == name && labels.All(l => s.Labels.TryGetValue(l.Key, out var v) && v == l.Value)).Sum(s => s.Value);

    [Fact]
    public async Task After_a_413_and_a_noise_report_metrics_count_both_under_their_reasons()
    {
        using var folder = new TempFolder();
        using var factory = LookoutFactory.Sqlite(folder.File("metrics.db"), new Dictionary<string, string> { ["Lookout:Ingest:MaxBodyBytes"] = "2048" });
        using var client = factory.CreateClient();

        // The first report makes "ops-metrics" known: a refusal for an id with nothing stored counts under "_unknown".
        using (var signal = await client.PostReportAsync("/r/ops-metrics", HttpHelpers.Csp("https://shop.example/", "https://cdn.example/a.js", "script-src")))
            Assert.Equal(HttpStatusCode.NoContent, signal.StatusCode);
        using (var tooLarge = await client.PostReportAsync("/r/ops-metrics", new string('x', 4096)))
            Assert.Equal(HttpStatusCode.RequestEntityTooLarge, tooLarge.StatusCode);
        using (var noise = await client.PostReportAsync("/r/ops-metrics", HttpHelpers.Csp("https://shop.example/", "chrome-extension://abcdefgh/inject.js", "script-src")))
            Assert.Equal(HttpStatusCode.NoContent, noise.StatusCode);

        var samples = await ScrapeAsync(client);
        Assert.Equal(1, Value(samples, "lookout_reports_dropped_total", ("app", "ops-metrics"), ("reason", "rejected:too_large")));
        Assert.Equal(1, Value(samples, "lookout_reports_noise_total", ("app", "ops-metrics"), ("reason", "browser_extension")));
        // Noise is stored too; the 413's body was never read as reports.
        Assert.Equal(2, Value(samples, "lookout_reports_stored_total", ("app", "ops-metrics")));
        Assert.Equal(2, Value(samples, "lookout_reports_received_total", ("app", "ops-metrics")));
        Assert.Equal(0, Value(samples, "lookout_grains_pending_reports"));
        Assert.True(Value(samples, "lookout_commit_reports_count", ("outcome", "committed")) >= 1);
        Assert.True(Value(samples, "lookout_commit_duration_seconds_count", ("outcome", "committed")) >= 1);
        // Requests by status come from ASP.NET Core's own meter, by route.
        Assert.Equal(1, Value(samples, "http_server_request_duration_seconds_count", ("http_route", "/r/{app}"), ("http_response_status_code", "413")));
        Assert.Equal(2, Value(samples, "http_server_request_duration_seconds_count", ("http_route", "/r/{app}"), ("http_response_status_code", "204")));
        // Orleans' meters are exported with Lookout's.
        Assert.Contains(samples, s => s.Name.StartsWith("orleans_", StringComparison.Ordinal));

        // The same numbers as the read API's counters.
        var counts = await client.GetJsonAsync("/api/apps/ops-metrics/counts");
        Assert.Equal(1, counts.Count("dropped", "rejected:too_large"));
        Assert.Equal(1, counts.Count("noise_reason", "browser_extension"));
    }

    [Fact]
    public async Task Application_labels_are_bounded_and_the_rest_count_as_other()
    {
        using var folder = new TempFolder();
        using var factory = LookoutFactory.Sqlite(folder.File("labels.db"), new Dictionary<string, string> { ["Lookout:Metrics:AppLabels"] = "2" });
        using var client = factory.CreateClient();
        foreach (var app in new[] { "first", "second", "third", "fourth", "first" })
        {
            using var response = await client.PostReportAsync("/r/" + app, HttpHelpers.Csp("https://" + app + ".example/", "https://cdn.example/a.js", "script-src"));
            Assert.Equal(HttpStatusCode.NoContent, response.StatusCode);
        }
        // An id refused as unknown-format gets no label either.
        using (var invalid = await client.PostReportAsync("/r/" + new string('a', 65), "{}")) Assert.Equal(HttpStatusCode.BadRequest, invalid.StatusCode);

        var samples = await ScrapeAsync(client);
        var stored = samples.Where(s => s.Name == "lookout_reports_stored_total").ToDictionary(s => s.Labels["app"], s => s.Value);
        Assert.Equal(new Dictionary<string, double> { ["first"] = 2, ["second"] = 1, ["(other)"] = 2 }, stored);
        var labels = samples.Where(s => s.Name.StartsWith("lookout_reports_", StringComparison.Ordinal)).Select(s => s.Labels["app"]).ToHashSet();
        Assert.DoesNotContain(new string('a', 65), labels);
        Assert.DoesNotContain("third", labels);
        Assert.True(labels.Count <= 4, string.Join(", ", labels)); // first, second, (other), and the grain of refused ids
    }

    [Fact]
    public async Task Metrics_follow_the_read_rule_and_open_only_to_scraper_addresses()
    {
        using var folder = new TempFolder();
        using var factory = LookoutFactory.Sqlite(folder.File("scrape.db"), new Dictionary<string, string>
        {
            ["Lookout:AdminToken"] = Token,
            ["Lookout:Metrics:ScraperAddresses:0"] = "192.0.2.0/24",
            ["Lookout:Metrics:ScraperAddresses:1"] = "2001:db8::7",
        });
        async Task<HttpStatusCode> StatusAsync(string path, string remote, string? bearer = null, string? forwarded = null)
        {
            var context = await factory.Server.SendAsync(c =>
            {
                c.Request.Method = "GET";
                c.Request.Path = path;
                c.Request.Host = new HostString("lookout.example");
                c.Connection.RemoteIpAddress = IPAddress.Parse(remote);
                if (bearer is not null) c.Request.Headers.Authorization = "Bearer " + bearer;
                if (forwarded is not null) c.Request.Headers["X-Forwarded-For"] = forwarded;
            });
            return (HttpStatusCode)context.Response.StatusCode;
        }

        Assert.Equal(HttpStatusCode.OK, await StatusAsync("/metrics", "192.0.2.7"));
        Assert.Equal(HttpStatusCode.OK, await StatusAsync("/metrics", "2001:db8::7"));
        Assert.Equal(HttpStatusCode.Unauthorized, await StatusAsync("/metrics", "198.51.100.1"));
        // A header never makes a client a scraper: the connection's address decides.
        Assert.Equal(HttpStatusCode.Unauthorized, await StatusAsync("/metrics", "198.51.100.1", forwarded: "192.0.2.7"));
        Assert.Equal(HttpStatusCode.OK, await StatusAsync("/metrics", "198.51.100.1", bearer: Token));
        // The scraper may read the metrics, nothing else.
        Assert.Equal(HttpStatusCode.Unauthorized, await StatusAsync("/api/apps", "192.0.2.7"));
        Assert.Equal(HttpStatusCode.Redirect, await StatusAsync("/orleans/", "192.0.2.7"));
        Assert.Equal(HttpStatusCode.Unauthorized, await StatusAsync("/openapi/v1.json", "192.0.2.7"));
    }

    [Fact]
    public void A_scraper_address_that_is_not_an_address_stops_start_up()
    {
        using var folder = new TempFolder();
        using var factory = LookoutFactory.Sqlite(folder.File("bad.db"), new Dictionary<string, string> { ["Lookout:Metrics:ScraperAddresses:0"] = "prometheus.internal" });
        var error = Assert.ThrowsAny<Exception>(() => factory.CreateClient());
        Assert.Contains("Lookout:Metrics:ScraperAddresses", error.ToString());
    }

    [Fact]
    public async Task The_OpenAPI_document_describes_every_mapped_route()
    {
        using var folder = new TempFolder();
        using var factory = LookoutFactory.Sqlite(folder.File("openapi.db"));
        using var client = factory.CreateClient();
        var document = await client.GetJsonAsync("/openapi/v1.json");
        Assert.StartsWith("3.", document.GetProperty("openapi").GetString());
        var paths = document.GetProperty("paths");

        var routes = factory.Services.GetServices<EndpointDataSource>().SelectMany(s => s.Endpoints).OfType<RouteEndpoint>().ToList();
        Assert.NotEmpty(routes);
        var checkedRoutes = 0;
        foreach (var route in routes)
        {
            var pattern = "/" + (route.RoutePattern.RawText ?? "").Trim('/');
            // Orleans' dashboard (its UI and its JSON calls) and the document itself are not Lookout's API.
            if (pattern.StartsWith("/orleans", StringComparison.Ordinal) || pattern.StartsWith("/openapi", StringComparison.Ordinal))
            {
                Assert.NotNull(route.Metadata.GetMetadata<Microsoft.AspNetCore.Routing.IExcludeFromDescriptionMetadata>());
                continue;
            }
            var methods = route.Metadata.GetMetadata<HttpMethodMetadata>()?.HttpMethods ?? ["GET"];
            Assert.True(paths.TryGetProperty(pattern, out var item), $"{pattern} is mapped but not in /openapi/v1.json");
            foreach (var method in methods)
            {
                Assert.True(item.TryGetProperty(method.ToLowerInvariant(), out _), $"{method} {pattern} is mapped but not in /openapi/v1.json");
                checkedRoutes++;
            }
        }
        Assert.True(checkedRoutes >= 20, $"only {checkedRoutes} routes checked");

        // The two the issue names, with their problem+json errors and response shape.
        var ingest = paths.GetProperty("/r/{app}").GetProperty("post");
        Assert.True(ingest.GetProperty("responses").TryGetProperty("204", out _));
        var tooLarge = ingest.GetProperty("responses").GetProperty("413").GetProperty("content");
        Assert.True(tooLarge.TryGetProperty("application/problem+json", out _));
        Assert.True(ingest.GetProperty("requestBody").GetProperty("content").TryGetProperty("application/csp-report", out _));
        var counts = paths.GetProperty("/api/apps/{app}/counts").GetProperty("get");
        Assert.Equal("#/components/schemas/CountsResponse",
            counts.GetProperty("responses").GetProperty("200").GetProperty("content").GetProperty("application/json").GetProperty("schema").GetProperty("$ref").GetString());
        Assert.True(counts.GetProperty("responses").GetProperty("503").GetProperty("content").TryGetProperty("application/problem+json", out _));
        // The handler's XML summary becomes the operation's.
        Assert.False(string.IsNullOrWhiteSpace(counts.GetProperty("summary").GetString()));
        var schemas = document.GetProperty("components").GetProperty("schemas");
        Assert.True(schemas.TryGetProperty("ProblemDetails", out _) || schemas.TryGetProperty("HttpValidationProblemDetails", out _));
        Assert.True(paths.GetProperty("/metrics").TryGetProperty("get", out _));
    }

    [Fact]
    public async Task The_Orleans_dashboard_shows_this_silo_behind_the_read_rule()
    {
        using var folder = new TempFolder();
        using var factory = LookoutFactory.Sqlite(folder.File("dashboard.db"));
        using var client = factory.CreateClient();
        var page = await client.GetStringAsync("/orleans/");
        Assert.Contains("Orleans Dashboard", page);

        var silo = factory.Services.GetRequiredService<Orleans.Runtime.ILocalSiloDetails>().SiloAddress.ToParsableString();
        JsonElement counters = default;
        for (var attempt = 0; attempt < 50; attempt++)
        {
            counters = await client.GetJsonAsync("/orleans/DashboardCounters");
            if (counters.GetProperty("hosts").GetArrayLength() > 0) break;
            await Task.Delay(200);
        }
        var host = Assert.Single(counters.GetProperty("hosts").EnumerateArray());
        Assert.Equal(silo, host.GetProperty("siloAddress").GetString());
        Assert.Equal("Active", host.GetProperty("status").GetString());

        var remote = await factory.Server.SendAsync(c =>
        {
            c.Request.Method = "GET";
            c.Request.Path = "/orleans/DashboardCounters";
            c.Connection.RemoteIpAddress = IPAddress.Parse("198.51.100.1");
        });
        Assert.Equal(403, remote.Response.StatusCode);
    }

    [Fact]
    public async Task The_Orleans_dashboard_can_be_turned_off()
    {
        using var folder = new TempFolder();
        using var factory = LookoutFactory.Sqlite(folder.File("nodash.db"), new Dictionary<string, string> { ["Lookout:Cluster:Dashboard"] = "false" });
        using var client = factory.CreateClient();
        using var response = await client.GetAsync("/orleans/DashboardCounters");
        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Null(factory.Services.GetService<TracerProvider>());
    }

    [Fact]
    public async Task With_an_OTLP_endpoint_requests_and_grain_calls_are_exported_as_traces()
    {
        var received = new ConcurrentQueue<byte[]>();
        var port = Lookout.Tests.Shared.LookoutProcesses.FreePort();
        var collectorBuilder = WebApplication.CreateSlimBuilder();
        collectorBuilder.WebHost.UseUrls($"http://127.0.0.1:{port}");
        await using var collector = collectorBuilder.Build();
        collector.MapPost("/v1/{signal}", async (HttpContext http, string signal) =>
        {
            using var body = new MemoryStream();
            await http.Request.Body.CopyToAsync(body);
            if (signal == "traces") received.Enqueue(body.ToArray());
            return Results.Ok();
        });
        await collector.StartAsync();

        using var folder = new TempFolder();
        using var factory = LookoutFactory.Sqlite(folder.File("traces.db"), new Dictionary<string, string>
        {
            ["OTEL_EXPORTER_OTLP_ENDPOINT"] = $"http://127.0.0.1:{port}",
            ["OTEL_EXPORTER_OTLP_PROTOCOL"] = "http/protobuf",
            ["OTEL_BSP_SCHEDULE_DELAY"] = "100",
        });
        using var client = factory.CreateClient();
        Assert.NotNull(factory.Services.GetService<TracerProvider>());
        using (var response = await client.PostReportAsync("/r/traced", HttpHelpers.Csp("https://traced.example/", "https://cdn.example/a.js", "script-src")))
            Assert.Equal(HttpStatusCode.NoContent, response.StatusCode);

        // OTLP/protobuf carries span names as plain UTF-8.
        string Everything() => string.Join("\n", received.Select(Encoding.UTF8.GetString));
        for (var attempt = 0; attempt < 100 && !(Everything().Contains("POST /r/{app}") && Everything().Contains("AcceptAsync")); attempt++)
            await Task.Delay(100);
        var exported = Everything();
        Assert.Contains("POST /r/{app}", exported);
        Assert.Contains("AcceptAsync", exported);
    }
}
