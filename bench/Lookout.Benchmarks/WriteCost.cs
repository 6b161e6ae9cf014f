// Write benchmark: storage alone, without HTTP: what each database spends to store a report through the
// group-commit path, and the floor it cannot go below on this machine.
using System.Diagnostics;
using System.Text;
using Lookout.Grains.Applications;
using Lookout.Grains.Reports;
using Lookout.Grains.Reports.Normalization;
using Lookout.Grains.Storage;
using Lookout.Silo.Storage;
using Lookout.Silo.Storage.Postgres;
using Lookout.Silo.Storage.Sqlite;
using Lookout.Silo.UserAgents;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;

namespace Lookout.Benchmarks;

/// <summary>
/// Commits prebuilt groups through <see cref="IBatchStore.CommitManyAsync"/>, one group at a time as the
/// silo's single commit lane does, and prints per stored report: wall time, the database server's CPU
/// (PostgreSQL's processes, read from /proc) and this process's CPU (for SQLite that is the database too).
/// Where counters are kept, the count deltas are folded into them every <see cref="FoldEvery"/> groups on the
/// clock, as the silo's fold job does.
/// The variants peel the write path down to its floor: what 16 connections hand the lane (16 requests of
/// ~2.8 reports, each from its own application), the same without counters, then without the two remaining search
/// indexes, then the same rows in groups of 2 000, the cheapest way a database here can take them.
/// </summary>
internal static class WriteCost
{
    private const string Chrome = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/125.0.0.0 Safari/537.36";

    private static readonly string[] SearchIndexes =
        ["lookout_reports_app_blocked_host", "lookout_reports_app_classification", "lookout_reports_app_violated", "lookout_reports_app_report_host"];

    private sealed record Variant(string Name, bool Counts, bool SearchIndexes, int Requests, int ReportsPerRequest);

    /// <summary>Groups between two folds of the count deltas in the variants with counters: 200 groups of 16
    /// requests are about a second of commits here, the silo's default fold interval.</summary>
    private const int FoldEvery = 200;

    private static readonly Variant[] Variants =
    [
        new("as now: events + count deltas, folded every 200 groups, 5 indexes, groups of 16 requests", true, true, 16, 3),
        new("events only, 5 indexes, groups of 16 requests", false, true, 16, 3),
        new("events only, 3 indexes, groups of 16 requests", false, false, 16, 3),
        new("events only, 3 indexes, groups of 2 000 reports", false, false, 50, 40),
    ];

    /// <summary>Runs every variant on a fresh database of the given provider ("sqlite", or "postgres" with
    /// LOOKOUT_BENCH_POSTGRES naming a server whose processes run on this machine).</summary>
    public static async Task RunAsync(string provider, int reports)
    {
        var parser = UapCoreParser.Load(UapCoreParser.DefaultPath);
        Console.WriteLine($"{provider}, {reports:N0} reports per variant");
        Console.WriteLine("| variant | reports/s | wall µs per report | database CPU µs per report | this process CPU µs per report |");
        Console.WriteLine("|---|---|---|---|---|");
        var run = 0;
        foreach (var variant in Variants)
        {
            var groups = Build(reports, variant, parser);
            await using var target = provider == "postgres" ? await PostgresTarget.CreateAsync($"lookout_write_{run++}") : await SqliteTarget.CreateAsync();
            if (!variant.SearchIndexes) await target.ExecuteAsync(string.Join(";", SearchIndexes.Select(i => $"drop index if exists {i}")));
            // Warm-up, so connection set-up and first-call costs are not in the measured part (bench/write.sh
            // also turns tiered compilation off: its background recompiles otherwise land in it).
            foreach (var group in Build(2_000, variant, parser)) await target.Store.CommitManyAsync(group, CancellationToken.None);
            // The prebuilt groups are large: collect now so their garbage is not collected on the clock.
            GC.Collect();
            GC.WaitForPendingFinalizers();
            GC.Collect();
            var db0 = target.ServerCpu();
            var self0 = Process.GetCurrentProcess().TotalProcessorTime;
            var watch = Stopwatch.StartNew();
            for (var i = 0; i < groups.Count; i++)
            {
                await target.Store.CommitManyAsync(groups[i], CancellationToken.None);
                if (variant.Counts && (i % FoldEvery == FoldEvery - 1 || i == groups.Count - 1)) await target.Admin.FoldCountsAsync(CancellationToken.None);
            }
            var wall = watch.Elapsed;
            var self = Process.GetCurrentProcess().TotalProcessorTime - self0;
            var db = target.ServerCpu() - db0;
            var stored = groups.Sum(g => g.Sum(b => b.Reports.Count));
            Console.WriteLine($"| {variant.Name} | {stored / wall.TotalSeconds:F0} | {wall.TotalMicroseconds / stored:F1} | {(provider == "postgres" ? (db.TotalMicroseconds / stored).ToString("F1") : "(in process)")} | {self.TotalMicroseconds / stored:F1} |");
        }
    }

    // Groups as the commit lane receives them: each request is one application's batch.
    private static List<List<CommitBatch>> Build(int reports, Variant variant, UapCoreParser parser)
    {
        var random = new Random(7);
        var now = DateTimeOffset.UtcNow;
        var context = new IngestContext(now, Chrome);
        var groups = new List<List<CommitBatch>>();
        var app = 0;
        for (var done = 0; done < reports;)
        {
            var group = new List<CommitBatch>();
            for (var request = 0; request < variant.Requests && done < reports; request++)
            {
                var state = new ApplicationState { App = "app-" + (app++ % 50) };
                for (var i = 0; i < variant.ReportsPerRequest && done < reports; i++, done++)
                {
                    // The typical legacy report of the pipeline benchmark, with pages and blocked hosts varied.
                    var json = $$$"""{"csp-report":{"document-uri":"https://shop{{{random.Next(50)}}}.example/p/{{{random.Next(400)}}}?step=2","referrer":"https://shop.example/","violated-directive":"script-src-elem","effective-directive":"script-src-elem","original-policy":"default-src 'self'; script-src 'self' https://cdn.shop.example; report-uri /r/shop","disposition":"enforce","blocked-uri":"https://cdn{{{random.Next(300)}}}.example/lib/x.js","status-code":200,"script-sample":""}}""";
                    var report = ReportPipeline.Process(Encoding.UTF8.GetBytes(json), context, NormalizationOptions.Default, parser).Reports[0];
                    state.Apply(new ReportAccepted(Guid.CreateVersion7(now), state.App, report));
                }
                state.Apply(new FlushStarted(Guid.NewGuid()));
                group.Add(variant.Counts ? state.InFlight! : state.InFlight! with { Deltas = [] });
            }
            groups.Add(group);
        }
        return groups;
    }

    private interface ITarget : IAsyncDisposable
    {
        IBatchStore Store { get; }
        IStorageAdmin Admin => (IStorageAdmin)Store;
        Task ExecuteAsync(string sql);
        TimeSpan ServerCpu();
    }

    private sealed class SqliteTarget(DirectoryInfo folder, SqliteStorage store) : ITarget
    {
        public IBatchStore Store => store;

        public static async Task<ITarget> CreateAsync()
        {
            var folder = Directory.CreateTempSubdirectory("lookout-write-");
            var store = new SqliteStorage(new StorageOptions { ConnectionString = $"Data Source={Path.Combine(folder.FullName, "w.db")}" }, NullLogger<SqliteStorage>.Instance);
            await store.MigrateAsync(CancellationToken.None);
            return new SqliteTarget(folder, store);
        }

        public async Task ExecuteAsync(string sql)
        {
            await using var connection = new SqliteConnection($"Data Source={Path.Combine(folder.FullName, "w.db")}");
            await connection.OpenAsync();
            await using var command = new SqliteCommand(sql, connection);
            await command.ExecuteNonQueryAsync();
        }

        // SQLite runs in this process: its CPU is in the last column.
        public TimeSpan ServerCpu() => TimeSpan.Zero;

        public async ValueTask DisposeAsync()
        {
            await store.DisposeAsync();
            SqliteConnection.ClearAllPools();
            folder.Delete(recursive: true);
        }
    }

    private sealed class PostgresTarget(string connectionString, PostgresStorage store) : ITarget
    {
        public IBatchStore Store => store;

        public static async Task<ITarget> CreateAsync(string database)
        {
            var server = Environment.GetEnvironmentVariable("LOOKOUT_BENCH_POSTGRES") ?? throw new InvalidOperationException("Set LOOKOUT_BENCH_POSTGRES (bench/write.sh does).");
            var (store, connectionString) = await BenchDatabase.CreateAsync(server, database);
            return new PostgresTarget(connectionString, store);
        }

        public async Task ExecuteAsync(string sql)
        {
            await using var connection = new NpgsqlConnection(connectionString);
            await connection.OpenAsync();
            await new NpgsqlCommand(sql, connection).ExecuteNonQueryAsync();
        }

        // User + system time of every process named postgres (the server runs on this machine). A process
        // that exits between two readings loses its time; over a run that is an autovacuum worker or two.
        public TimeSpan ServerCpu()
        {
            long ticks = 0;
            foreach (var dir in Directory.EnumerateDirectories("/proc"))
            {
                try
                {
                    if (File.ReadAllText(Path.Combine(dir, "comm")).Trim() != "postgres") continue;
                    var stat = File.ReadAllText(Path.Combine(dir, "stat"));
                    var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
                    ticks += long.Parse(fields[11]) + long.Parse(fields[12]); // utime, stime (fields 14 and 15)
                }
                catch (IOException)
                {
                }
                catch (UnauthorizedAccessException)
                {
                }
            }
            return TimeSpan.FromSeconds(ticks / 100.0); // USER_HZ is 100 on Linux
        }

        public async ValueTask DisposeAsync() => await store.DisposeAsync();
    }
}
