// Write benchmark: storage alone, without HTTP: reports per second through CommitManyAsync on SQLite.
using System.Diagnostics;
using System.Text;
using Lookout.Grains.Applications;
using Lookout.Grains.Reports;
using Lookout.Grains.Reports.Normalization;
using Lookout.Grains.Storage;
using Lookout.Silo.Storage;
using Lookout.Silo.Storage.Sqlite;
using Microsoft.Extensions.Logging.Abstractions;

namespace Lookout.Benchmarks;

/// <summary>Commits groups of 50 batches (one per application) of 4 reports, as group commit does under
/// load, and prints the cost per report, with and without the counters, to locate write-path cost.</summary>
internal static class WriteCost
{
    public static async Task RunAsync(int reports)
    {
        foreach (var withCounts in new[] { true, false })
        {
            var folder = Directory.CreateTempSubdirectory("lookout-write-");
            await using var store = new SqliteStorage(new StorageOptions { ConnectionString = $"Data Source={Path.Combine(folder.FullName, "w.db")}" }, NullLogger<SqliteStorage>.Instance);
            await store.MigrateAsync(CancellationToken.None);
            var groups = Build(reports, withCounts);
            var watch = Stopwatch.StartNew();
            foreach (var group in groups) await store.CommitManyAsync(group, CancellationToken.None);
            var elapsed = watch.Elapsed;
            Console.WriteLine($"SQLite, {(withCounts ? "events + counters" : "events only")}: {reports / elapsed.TotalSeconds:F0} reports/s, {elapsed.TotalMicroseconds / reports:F1} µs per report");
            folder.Delete(recursive: true);
        }
    }

    private static List<List<CommitBatch>> Build(int reports, bool withCounts)
    {
        var random = new Random(7);
        var now = DateTimeOffset.UtcNow;
        var groups = new List<List<CommitBatch>>();
        for (var done = 0; done < reports; done += 200)
        {
            var group = new List<CommitBatch>();
            for (var app = 0; app < 50; app++)
            {
                var state = new ApplicationState { App = "app-" + app };
                for (var i = 0; i < 4; i++)
                {
                    var json = $$$"""{"csp-report":{"document-uri":"https://site{{{random.Next(50)}}}.example/p/{{{random.Next(40)}}}","blocked-uri":"https://cdn{{{random.Next(200)}}}.example/x.js","violated-directive":"script-src-elem"}}""";
                    var report = ReportPipeline.Process(Encoding.UTF8.GetBytes(json), new IngestContext(now), NormalizationOptions.Default).Reports[0];
                    state.Apply(new ReportAccepted(Guid.CreateVersion7(now), state.App, report));
                }
                state.Apply(new FlushStarted(Guid.NewGuid()));
                var batch = state.InFlight!;
                group.Add(withCounts ? batch : batch with { Deltas = [] });
            }
            groups.Add(group);
        }
        return groups;
    }
}
