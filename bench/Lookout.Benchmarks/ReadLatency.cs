// Read benchmark: counts and series latency for one application at 10 000 and 1 000 000 stored reports.
using System.Diagnostics;
using System.Text;
using Lookout.Grains.Applications;
using Lookout.Grains.Reports;
using Lookout.Grains.Reports.Normalization;
using Lookout.Grains.Storage;
using Lookout.Silo.Storage.Postgres;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;

namespace Lookout.Benchmarks;

/// <summary>Seeds a fresh PostgreSQL database with N reports spread over 30 days and 50 applications, then
/// times the queries the dashboard makes. Counts read hourly count rows, so latency should depend on the
/// window, not on how many raw events are stored.</summary>
internal static class ReadLatency
{
    public static async Task RunAsync(string serverConnectionString, int[] sizes)
    {
        Console.WriteLine("| stored reports | seeding s | query | p50 ms | p99 ms |");
        Console.WriteLine("|---|---|---|---|---|");
        foreach (var size in sizes)
        {
            var database = $"lookout_read_{size}";
            var (created, connectionString) = await BenchDatabase.CreateAsync(serverConnectionString, database);
            await using var store = created;
            var seeding = Stopwatch.StartNew();
            await SeedAsync(store, size);
            // A silo folds the commits' count deltas every second; seeding ran without one.
            await store.FoldCountsAsync(CancellationToken.None);
            var seconds = seeding.Elapsed.TotalSeconds;
            await using (var analyze = new NpgsqlConnection(connectionString))
            {
                await analyze.OpenAsync();
                await new NpgsqlCommand("analyze", analyze).ExecuteNonQueryAsync();
            }
            var now = DateTimeOffset.UtcNow;
            var queries = new (string Name, Func<Task> Run)[]
            {
                ("counts, 24 h", () => store.GetCountsAsync("app-1", now.AddHours(-24), now, CancellationToken.None)),
                ("counts, 30 d", () => store.GetCountsAsync("app-1", now.AddDays(-30), now, CancellationToken.None)),
                ("series by classification, 7 d", () => store.GetBucketsAsync("app-1", "classification", now.AddDays(-7), now, CancellationToken.None)),
            };
            foreach (var (name, run) in queries)
            {
                var (p50, p99) = await Latency.MeasureAsync(run, warmUp: 30, runs: 500);
                Console.WriteLine($"| {size:N0} | {seconds:F0} | {name} | {p50:F2} | {p99:F2} |");
                seconds = 0;
            }
        }
    }

    private static async Task SeedAsync(PostgresStorage store, int size)
    {
        var random = new Random(42);
        var now = DateTimeOffset.UtcNow;
        var directives = new[] { "script-src-elem", "style-src-elem", "img-src", "connect-src", "font-src" };
        const int batchSize = 5000;
        for (var done = 0; done < size; done += batchSize)
        {
            var batches = new List<CommitBatch>();
            foreach (var app in Enumerable.Range(1, 50).Select(i => "app-" + i))
            {
                var state = new ApplicationState { App = app };
                for (var i = 0; i < batchSize / 50 && done + batches.Count * (batchSize / 50) + i < size; i++)
                {
                    var at = now.AddSeconds(-random.Next(30 * 24 * 3600));
                    var json = $$$"""{"csp-report":{"document-uri":"https://site{{{random.Next(20)}}}.example/p/{{{random.Next(100)}}}","blocked-uri":"https://cdn{{{random.Next(300)}}}.example/x.js","violated-directive":"{{{directives[random.Next(directives.Length)]}}}"}}""";
                    var report = ReportPipeline.Process(Encoding.UTF8.GetBytes(json), new IngestContext(at), NormalizationOptions.Default).Reports[0];
                    state.Apply(new ReportAccepted(Guid.CreateVersion7(at), app, report));
                }
                if (state.Pending.Count == 0) continue;
                state.Apply(new FlushStarted(Guid.NewGuid()));
                batches.Add(state.InFlight!);
            }
            await store.CommitManyAsync(batches, CancellationToken.None);
        }
    }
}
