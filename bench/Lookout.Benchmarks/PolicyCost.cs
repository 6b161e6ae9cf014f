// Policy tools benchmark: how long suggest and simulate take over one application's 100 000 and 1 000 000 CSP reports.
using System.Diagnostics;
using System.Text;
using Lookout.Grains.Applications;
using Lookout.Grains.Policy;
using Lookout.Grains.Reports;
using Lookout.Grains.Reports.Normalization;
using Lookout.Grains.Storage;
using Lookout.Silo.Policy;
using Lookout.Silo.Storage;
using Lookout.Silo.Storage.Postgres;
using Lookout.Silo.Storage.Sqlite;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;

namespace Lookout.Benchmarks;

/// <summary>Seeds one application with N CSP reports over the last 7 days (the tools' default window), then
/// times the scans the endpoints make: keyset pages of <see cref="PageSize"/> newest first, each fed to the
/// simulator or the suggester. The reports mix 400 hosts, inline code, eval, data: images and extension noise,
/// so the matcher takes each of its paths.</summary>
internal static class PolicyCost
{
    // As PolicyScan.PageSize in Lookout.Api (the benchmark references the silo only).
    private const int PageSize = 5000;
    private const string App = "shop";
    private const string Original = "default-src 'self'; script-src 'self' https://cdn1.example; img-src 'self'; report-uri /r/shop";
    private const string Draft = "default-src 'self'; script-src 'self' https://cdn1.example https://*.cdn.example; img-src 'self' data: https:; style-src 'self' 'unsafe-inline'";

    public static async Task RunAsync(string provider, string? postgres, int[] sizes, bool shuffled)
    {
        var suffixes = PublicSuffixFile.Load(PublicSuffixFile.DefaultPath);
        Console.WriteLine($"provider: {provider}, layout: {(shuffled ? "shuffled" : "arrival order")}, {Environment.ProcessorCount} cores, page {PageSize:N0}");
        Console.WriteLine("| stored reports | seeding s | operation | run 1 s | run 2 s | reports/s | managed MB allocated |");
        Console.WriteLine("|---|---|---|---|---|---|---|");
        foreach (var size in sizes)
        {
            var (store, dispose) = await CreateAsync(provider, postgres, size);
            try
            {
                // The window is fixed at the seeding's start, so a slow seeding does not age reports out of it
                // and every run reads exactly what was seeded.
                var now = DateTimeOffset.UtcNow;
                var seeding = Stopwatch.StartNew();
                await SeedAsync((IBatchStore)store, size, now, shuffled);
                var seeded = seeding.Elapsed.TotalSeconds;
                var reader = (IReportReader)store;
                var since = now.AddDays(-7);
                var operations = new (string Name, Func<Task<long>> Run)[]
                {
                    ("scan only", () => ScanAsync(reader, since, now, _ => { })),
                    ("simulate", async () =>
                    {
                        var simulator = new PolicySimulator(Draft);
                        var n = await ScanAsync(reader, since, now, r => simulator.Add(r));
                        simulator.Build();
                        return n;
                    }),
                    ("suggest", async () =>
                    {
                        var suggester = new PolicySuggester(await reader.GetNewestPolicyAsync(App, since, now, null, CancellationToken.None), suffixes);
                        var n = await ScanAsync(reader, since, now, suggester.Add);
                        suggester.Build();
                        return n;
                    }),
                };
                foreach (var (name, run) in operations)
                {
                    var times = new List<double>();
                    long scanned = 0;
                    var allocated = GC.GetTotalAllocatedBytes(precise: true);
                    for (var i = 0; i < 2; i++)
                    {
                        var watch = Stopwatch.StartNew();
                        scanned = await run();
                        times.Add(watch.Elapsed.TotalSeconds);
                    }
                    var perRun = (GC.GetTotalAllocatedBytes(precise: true) - allocated) / 2.0 / (1 << 20);
                    if (scanned != size) throw new InvalidOperationException($"{name} scanned {scanned} of {size}");
                    Console.WriteLine($"| {size:N0} | {seeded:F0} | {name} | {times[0]:F2} | {times[1]:F2} | {size / times.Min():N0} | {perRun:N0} |");
                    seeded = 0;
                }
            }
            finally
            {
                await dispose();
            }
        }
    }

    private static async Task<long> ScanAsync(IReportReader reader, DateTimeOffset since, DateTimeOffset until, Action<PolicyReport> each)
    {
        var cursor = PolicyCursor.Start(until);
        long scanned = 0;
        while (true)
        {
            var page = await reader.GetPolicyReportsAsync(App, since, until, cursor, null, PageSize, CancellationToken.None);
            foreach (var report in page) each(report);
            scanned += page.Count;
            if (page.Count < PageSize) return scanned;
            cursor = new PolicyCursor(page[^1].ReceivedAt, page[^1].Id);
        }
    }

    private static async Task<(object Store, Func<Task> Dispose)> CreateAsync(string provider, string? postgres, int size)
    {
        if (provider == "sqlite")
        {
            var folder = Directory.CreateTempSubdirectory("lookout-policy-");
            var sqlite = new SqliteStorage(new StorageOptions { ConnectionString = $"Data Source={Path.Combine(folder.FullName, "p.db")}" }, NullLogger<SqliteStorage>.Instance);
            await sqlite.MigrateAsync(CancellationToken.None);
            return (sqlite, async () =>
            {
                await sqlite.DisposeAsync();
                folder.Delete(recursive: true);
            });
        }
        var server = postgres ?? throw new InvalidOperationException("Set LOOKOUT_BENCH_POSTGRES (bench/policy.sh does).");
        var (store, _) = await BenchDatabase.CreateAsync(server, $"lookout_policy_{size}");
        return (store, async () => await store.DisposeAsync());
    }

    private static async Task SeedAsync(IBatchStore store, int size, DateTimeOffset now, bool shuffled)
    {
        var random = new Random(42);
        const int batchSize = 5000;
        for (var done = 0; done < size; done += batchSize)
        {
            var state = new ApplicationState { App = App };
            for (var i = 0; i < batchSize && done + i < size; i++)
            {
                // Within the window, a minute clear of its ends. Reports arrive in time order, so storage lays
                // them out by receipt time as a live collector does; `shuffled` spreads every batch over the
                // whole week instead (an import out of order), the worst layout for a scan by time.
                var at = shuffled
                    ? now.AddSeconds(-60 - random.Next(7 * 24 * 3600 - 120))
                    : now.AddSeconds(-60 - (7 * 24 * 3600 - 120) * (1 - (done + i) / (double)size) + random.Next(30));
                var (directive, blocked) = random.Next(20) switch
                {
                    < 12 => ("script-src-elem", $"https://s{random.Next(400)}.cdn.example/lib{random.Next(50)}.js"),
                    12 or 13 => ("script-src-elem", "inline"),
                    14 => ("script-src", "eval"),
                    15 or 16 => ("img-src", "data"),
                    17 => ("style-src-elem", "inline"),
                    18 => ("connect-src", $"https://api{random.Next(20)}.example/v1"),
                    _ => ("script-src-elem", "chrome-extension"),
                };
                var json = $$$"""{"csp-report":{"document-uri":"https://shop.example/p/{{{random.Next(200)}}}","blocked-uri":"{{{blocked}}}","effective-directive":"{{{directive}}}","violated-directive":"{{{directive}}}","disposition":"report","original-policy":"{{{Original}}}"}}""";
                var report = ReportPipeline.Process(Encoding.UTF8.GetBytes(json), new IngestContext(at), NormalizationOptions.Default).Reports[0];
                state.Apply(new ReportAccepted(Guid.CreateVersion7(at), App, report));
            }
            state.Apply(new FlushStarted(Guid.NewGuid()));
            await store.CommitManyAsync([state.InFlight!], CancellationToken.None);
        }
    }
}
