// Search benchmark (issue 14, target 5): the example query and a host wildcard over one application's
// 1 000 000 stored reports, and how soon a report is findable after its commit returned.
using System.Diagnostics;
using System.Text;
using Lookout.Grains.Applications;
using Lookout.Grains.Counting;
using Lookout.Grains.Reports;
using Lookout.Grains.Reports.Normalization;
using Lookout.Grains.Storage;
using Lookout.Silo.Search;
using Lookout.Silo.Storage.Postgres;
using Npgsql;

namespace Lookout.Benchmarks;

/// <summary>Seeds one application with N reports over 30 days (20 sites, 300 CDN hosts plus 40 subdomains of
/// example.com, http: and https: blocked URLs so that mixed content is a few percent of them), then times
/// searches as the read API runs them (newest first, 50 per page), and the delay from a commit's return to
/// its report being found by search.</summary>
internal static class SearchLatency
{
    private const string App = "big";

    public static async Task RunAsync(string serverConnectionString, int size)
    {
        var (created, connectionString) = await BenchDatabase.CreateAsync(serverConnectionString, "lookout_search");
        await using var store = created;
        var seeding = Stopwatch.StartNew();
        // The grain's live counts of the same reports, as an activation holds them: the counts endpoint's answer.
        var live = new LiveCounts(ApplicationGrainOptions.DefaultLiveValuesPerHour, CountRules.Bucket(DateTimeOffset.UtcNow).AddDays(-31));
        await SeedAsync(store, size, live);
        await store.FoldCountsAsync(CancellationToken.None);
        await using (var analyze = new NpgsqlConnection(connectionString))
        {
            await analyze.OpenAsync();
            await new NpgsqlCommand("analyze", analyze).ExecuteNonQueryAsync();
        }
        Console.WriteLine($"Seeded {size:N0} reports of one application in {seeding.Elapsed.TotalSeconds:F0} s.");
        var queries = new[]
        {
            // The example, as the dashboard's search box sends it.
            $"classification:\"mixed_content\" app_name:{App} blocked_host:cdn7.example OR blocked_host:cdn8.example violated_directive:script-src",
            "blocked_host:*.example.com",
            "blocked_host:cdn7.example",
            "classification:mixed_content",
            // Rare values (0.2 % and 0.5 % of the reports): where an index on a low-cardinality column pays.
            "classification:eval",
            "violated_directive:frame-src",
            "report_host:site3.example since:24h",
        };
        // Findable: commit one report with a value no other report has, then search for it until it appears.
        var delays = new List<double>();
        var firstTry = 0;
        for (var i = 0; i < 50; i++)
        {
            var host = $"probe{i}.findable.example";
            var state = new ApplicationState { App = App };
            var now = DateTimeOffset.UtcNow;
            state.Apply(new ReportAccepted(Guid.CreateVersion7(now), App, Report(host, now, "script-src-elem")));
            state.Apply(new FlushStarted(Guid.NewGuid()));
            await store.CommitManyAsync([state.InFlight!], CancellationToken.None);
            var committed = Stopwatch.StartNew();
            var request = new SearchRequest(App, SearchQuery.Parse($"blocked_host:{host}", now), null, 50);
            var searches = 1;
            while ((await store.SearchAsync(request, CancellationToken.None)).Count == 0)
            {
                searches++;
                if (committed.Elapsed > TimeSpan.FromSeconds(10)) throw new InvalidOperationException($"{host} was not findable after 10 s.");
            }
            delays.Add(committed.Elapsed.TotalMilliseconds);
            if (searches == 1) firstTry++;
        }
        delays.Sort();
        Console.WriteLine();
        Console.WriteLine($"Findable after the commit returned (50 probes, shipped schema): found by the first search {firstTry} times; p50 {delays[delays.Count / 2]:F2} ms, max {delays[^1]:F2} ms (the search's own time included).");
        await TimeCountsAsync(live);
        // The shipped schema (two search indexes, on blocked and document host), then with the two on
        // low-cardinality columns that migration 12 dropped put back, then without any search index: what each
        // costs the write path (bench/write.sh) buys here.
        await TimeAsync(store, queries, "as shipped: search indexes on (app, blocked_host, id) and (app, report_host, id)");
        await ExecuteAsync(connectionString,
            "create index lookout_reports_app_classification on lookout_reports (app, classification, id desc)",
            "create index lookout_reports_app_violated on lookout_reports (app, violated_directive, id desc)");
        await TimeAsync(store, queries, "with the classification and violated_directive indexes migration 12 dropped");
        await ExecuteAsync(connectionString, "drop index lookout_reports_app_classification", "drop index lookout_reports_app_violated",
            "drop index lookout_reports_app_blocked_host", "drop index lookout_reports_app_report_host");
        await TimeAsync(store, queries, "without any search index");
    }

    // The counts query as the grain answers it (Orleans' local call not included): 24 h and 7 d sums.
    private static async Task TimeCountsAsync(LiveCounts live)
    {
        Console.WriteLine();
        Console.WriteLine($"Counts from the grain's live counts ({live.Entries:N0} counters):");
        Console.WriteLine();
        Console.WriteLine("| window | p50 ms | p99 ms |");
        Console.WriteLine("|---|---|---|");
        foreach (var (name, hours) in new[] { ("24 h", 24), ("7 d", 7 * 24) })
        {
            var until = DateTimeOffset.UtcNow;
            var (p50, p99) = await Latency.MeasureAsync(() =>
            {
                live.Sum(until.AddHours(-hours), until);
                return Task.CompletedTask;
            }, warmUp: 20, runs: 500);
            Console.WriteLine($"| {name} | {p50:F3} | {p99:F3} |");
        }
    }

    private static async Task TimeAsync(PostgresStorage store, string[] queries, string schema)
    {
        Console.WriteLine();
        Console.WriteLine($"{schema}:");
        Console.WriteLine();
        Console.WriteLine("| query | matches in the first page | p50 ms | p99 ms |");
        Console.WriteLine("|---|---|---|---|");
        foreach (var text in queries)
        {
            var request = new SearchRequest(App, SearchQuery.Parse(text, DateTimeOffset.UtcNow), null, 50);
            var found = (await store.SearchAsync(request, CancellationToken.None)).Count;
            var (p50, p99) = await Latency.MeasureAsync(() => store.SearchAsync(request, CancellationToken.None), warmUp: 5, runs: 100);
            Console.WriteLine($"| `{text}` | {found} | {p50:F2} | {p99:F2} |");
        }
    }

    private static async Task ExecuteAsync(string connectionString, params string[] statements)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        foreach (var statement in statements) await new NpgsqlCommand(statement, connection) { CommandTimeout = 600 }.ExecuteNonQueryAsync();
        await new NpgsqlCommand("analyze lookout_reports", connection).ExecuteNonQueryAsync();
    }

    private static Report Report(string host, DateTimeOffset at, string directive, string scheme = "https", int site = 0, int page = 0)
    {
        var json = $$$"""{"csp-report":{"document-uri":"https://site{{{site}}}.example/p/{{{page}}}","blocked-uri":"{{{scheme}}}://{{{host}}}/x.js","violated-directive":"{{{directive}}}","effective-directive":"{{{directive}}}","original-policy":"default-src 'self'"}}""";
        return ReportPipeline.Process(Encoding.UTF8.GetBytes(json), new IngestContext(at), NormalizationOptions.Default).Reports[0];
    }

    private static Report Eval(DateTimeOffset at) => ReportPipeline.Process(Encoding.UTF8.GetBytes(
        """{"csp-report":{"document-uri":"https://site1.example/p/1","blocked-uri":"eval","violated-directive":"script-src","effective-directive":"script-src","original-policy":"script-src 'self'"}}"""),
        new IngestContext(at), NormalizationOptions.Default).Reports[0];

    private static async Task SeedAsync(PostgresStorage store, int size, LiveCounts live)
    {
        var random = new Random(42);
        var now = DateTimeOffset.UtcNow;
        var directives = new[] { "script-src-elem", "style-src-elem", "img-src", "connect-src", "font-src", "script-src" };
        const int batchSize = 5000;
        for (var done = 0; done < size; done += batchSize)
        {
            var state = new ApplicationState { App = App };
            for (var i = 0; i < batchSize && done + i < size; i++)
            {
                // In time order, as ingest stores them.
                var at = now.AddSeconds(-30 * 24 * 3600.0 * (size - done - i) / size);
                var host = random.Next(10) == 0 ? $"s{random.Next(40)}.example.com" : $"cdn{random.Next(300)}.example";
                var scheme = random.Next(25) == 0 ? "http" : "https";
                var directive = random.Next(200) == 0 ? "frame-src" : directives[random.Next(directives.Length)];
                var report = random.Next(500) == 0 ? Eval(at) : Report(host, at, directive, scheme, random.Next(20), random.Next(100));
                state.Apply(new ReportAccepted(Guid.CreateVersion7(at), App, report));
                var counts = new Dictionary<CountKey, long>();
                CountRules.AddTo(new CountSource(report.ReceivedAt, report.Type, report.BlockedHost, report.EffectiveDirective, report.ViolatedDirective,
                    report.Classification, report.ReportHost, report.Browser, report.BrowserMajor, report.Disposition, report.NoiseReason, report.NoiseDryRun,
                    report.SamplingFraction), counts);
                foreach (var (key, count) in counts) live.Add(key, count);
            }
            state.Apply(new FlushStarted(Guid.NewGuid()));
            await store.CommitManyAsync([state.InFlight!], CancellationToken.None);
        }
    }
}
