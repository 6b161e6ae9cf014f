// Faults on a real Orleans cluster (scripts/cluster.sh, three silo processes on one PostgreSQL): the silo
// holding a grain killed with SIGKILL under load, every silo restarted in turn under load, PostgreSQL
// restarted under load. Every acknowledged report is stored exactly once, counts equal a rebuild, and the
// live counts every silo serves equal a recount.
using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Text;
using Lookout.Tests.Shared;
using Npgsql;

namespace Lookout.Api.Tests;

public sealed class ClusterFaultTests(Xunit.Abstractions.ITestOutputHelper output)
{
    private static readonly string[] Apps = ["shop", "blog", "docs", "admin", "api"];

    [SkippableFact]
    public async Task A_silo_killed_mid_load_loses_no_acknowledged_report_and_counts_equal_a_rebuild()
    {
        await using var database = await TestPostgres.CreateDatabaseAsync();
        await using var cluster = new ClusterScript(3, database.ConnectionString);
        await cluster.RunAsync("start");

        var load = new Load([cluster.Silo(1), cluster.Silo(2), cluster.Silo(3)]);
        using var stop = new CancellationTokenSource();
        var running = load.RunAsync(workers: 12, stop.Token);
        await load.WaitForAcknowledgedAsync(6_000);
        // Reports for "shop" reach all three silos; Orleans runs its one grain activation on one of them: kill that one.
        await AssertOneActivationAsync(cluster, [1, 2, 3]);
        using var silo1 = cluster.Reader(1);
        var shop = await silo1.GetJsonAsync("/api/apps/shop/activation");
        var victim = cluster.SiloOf(shop.GetProperty("silo").GetString()!);
        using var other = cluster.Reader(victim == 1 ? 2 : 1);
        string killedId;
        using (var victimReader = cluster.Reader(victim)) killedId = (await victimReader.GetJsonAsync("/api/cluster")).GetProperty("self").GetString()!;
        await cluster.RunAsync("kill", victim.ToString(System.Globalization.CultureInfo.InvariantCulture));
        var afterKill = load.Acknowledged;
        await load.WaitForAcknowledgedAsync(afterKill + 3_000);
        // The grain moved to a survivor, which recovered its counts from storage.
        var moved = await other.GetJsonAsync("/api/apps/shop/activation");
        Assert.NotEqual(shop.GetProperty("activation").GetString(), moved.GetProperty("activation").GetString());
        Assert.NotEqual(victim, cluster.SiloOf(moved.GetProperty("silo").GetString()!));
        await cluster.RunAsync("restart", victim.ToString(System.Globalization.CultureInfo.InvariantCulture));
        await load.WaitForSentAsync(20_000);
        await load.WaitForAcknowledgedAsync(load.Acknowledged + 1_000); // the restarted silo takes traffic too
        await stop.CancelAsync();
        await running;

        var dead = await Eventually(async () =>
        {
            var silos = (await other.GetJsonAsync("/api/cluster")).GetProperty("silos").EnumerateArray();
            return silos.Any(s => s.GetProperty("silo_id").GetString() == killedId && s.GetProperty("status").GetString() == "dead");
        });
        Assert.True(dead, "the killed silo was not marked dead by the others");
        await AssertOneActivationAsync(cluster, [1, 2, 3]);
        await AssertLiveCountsExactAsync(cluster, database.ConnectionString, [1, 2, 3]);

        await cluster.RunAsync("stop");
        output.WriteLine(load.Summary);
        Assert.True(load.SentReports >= 20_000);
        Assert.True(load.Failures > 0, "the kill should have cost some requests an answer");
        Assert.Equal(0, load.ServerErrorsOtherThan503);
        Assert.True(load.Every503HadRetryAfter, "a 503 came without Retry-After");
        await AssertStoredExactlyOnceAsync(database.ConnectionString, load);
        await AssertCountsEqualRebuildAsync(database.ConnectionString);
    }

    [SkippableFact]
    public async Task Restarting_every_silo_in_turn_under_load_loses_nothing_acknowledged_and_counts_stay_exact()
    {
        await using var database = await TestPostgres.CreateDatabaseAsync();
        await using var cluster = new ClusterScript(3, database.ConnectionString);
        await cluster.RunAsync("start");

        var load = new Load([cluster.Silo(1), cluster.Silo(2), cluster.Silo(3)]);
        using var stop = new CancellationTokenSource();
        var running = load.RunAsync(workers: 9, stop.Token);
        await load.WaitForAcknowledgedAsync(3_000);
        foreach (var n in new[] { "1", "2", "3" })
        {
            // SIGTERM: the silo drains its requests, its grains flush and deactivate, and Orleans moves them.
            await cluster.RunAsync("term", n);
            await load.WaitForAcknowledgedAsync(load.Acknowledged + 1_500);
            await cluster.RunAsync("restart", n);
            await load.WaitForAcknowledgedAsync(load.Acknowledged + 1_500);
        }
        await stop.CancelAsync();
        await running;

        await AssertOneActivationAsync(cluster, [1, 2, 3]);
        await AssertLiveCountsExactAsync(cluster, database.ConnectionString, [1, 2, 3]);
        await cluster.RunAsync("stop");
        output.WriteLine(load.Summary);
        Assert.Equal(0, load.ServerErrorsOtherThan503);
        Assert.True(load.Every503HadRetryAfter, "a 503 came without Retry-After");
        await AssertStoredExactlyOnceAsync(database.ConnectionString, load);
        await AssertCountsEqualRebuildAsync(database.ConnectionString);
    }

    // Asked through each silo, every application's grain is the same activation.
    private static async Task AssertOneActivationAsync(ClusterScript cluster, int[] silos)
    {
        foreach (var app in Apps)
        {
            var seen = new HashSet<string>(StringComparer.Ordinal);
            foreach (var n in silos)
            {
                using var reader = cluster.Reader(n);
                seen.Add((await reader.GetJsonAsync($"/api/apps/{app}/activation")).GetProperty("activation").GetString()!);
            }
            Assert.True(seen.Count == 1, $"{app} has {seen.Count} activations");
        }
    }

    // The counts endpoint (answered from the grain's memory) through each silo equals a recount of the stored
    // events. A commit in flight when a silo died is picked up by reconciliation, so allow it that long.
    private static async Task AssertLiveCountsExactAsync(ClusterScript cluster, string connectionString, int[] silos)
    {
        foreach (var app in Apps)
        {
            var stored = await ScalarAsync(connectionString, $"select count(*) from lookout_reports where app = '{app}'");
            foreach (var n in silos)
            {
                using var reader = cluster.Reader(n);
                long live = -1;
                var exact = await Eventually(async () =>
                {
                    live = (await reader.GetJsonAsync($"/api/apps/{app}/counts?since=24h")).GetProperty("total").GetInt64();
                    return live == stored;
                }, TimeSpan.FromSeconds(45));
                Assert.True(exact, $"{app} through silo {n}: live total {live}, stored {stored}");
            }
        }
    }

    [SkippableFact]
    public async Task PostgreSQL_restarting_under_load_gets_503_with_retry_after_never_500_and_loses_nothing_acknowledged()
    {
        // The cluster's own server: restarting the shared test server would disturb other tests.
        TestPostgres.SkipUnlessAvailable();
        await using var cluster = new ClusterScript(2, connectionString: null);
        await cluster.RunAsync("start");

        var load = new Load([cluster.Silo(1), cluster.Silo(2)]);
        using var stop = new CancellationTokenSource();
        var running = load.RunAsync(workers: 8, stop.Token);
        await load.WaitForAcknowledgedAsync(2_000);
        await cluster.RunAsync("pg-stop");
        var downAt = load.Acknowledged;
        var unavailable = load.Status(HttpStatusCode.ServiceUnavailable);
        await load.WaitForStatusAsync(HttpStatusCode.ServiceUnavailable, unavailable + 50);
        await Task.Delay(1_000);
        await cluster.RunAsync("pg-start");
        // Recovery by itself: acknowledgements resume without touching the silos.
        await load.WaitForAcknowledgedAsync(downAt + 2_000);
        await stop.CancelAsync();
        await running;
        await cluster.RunAsync("stop");
        await cluster.RunAsync("pg-start");

        output.WriteLine(load.Summary);
        Assert.Equal(0, load.ServerErrorsOtherThan503);
        Assert.True(load.Status(HttpStatusCode.ServiceUnavailable) > 0);
        Assert.True(load.Every503HadRetryAfter, "a 503 came without Retry-After");
        Assert.Equal(0, load.Failures); // the silos stayed up: every request got an answer
        await AssertStoredExactlyOnceAsync(cluster.ConnectionString, load);
        await AssertCountsEqualRebuildAsync(cluster.ConnectionString);
    }

    private static async Task AssertStoredExactlyOnceAsync(string connectionString, Load load)
    {
        var stored = new Dictionary<string, long>(StringComparer.Ordinal);
        await using (var connection = new NpgsqlConnection(connectionString))
        {
            await connection.OpenAsync();
            await using var command = new NpgsqlCommand("select app || path, count(*) from lookout_reports group by app, path", connection);
            await using var reader = await command.ExecuteReaderAsync();
            while (await reader.ReadAsync()) stored[reader.GetString(0)] = reader.GetInt64(1);
        }
        Assert.All(stored, s => Assert.True(s.Value == 1, $"{s.Key} stored {s.Value} times"));
        var missing = load.AcknowledgedKeys.Where(k => !stored.ContainsKey(k)).Take(5).ToList();
        Assert.True(missing.Count == 0, "acknowledged but not stored: " + string.Join(", ", missing));
        Assert.InRange(stored.Count, load.Acknowledged, load.SentReports);
    }

    private static async Task AssertCountsEqualRebuildAsync(string connectionString)
    {
        var live = await CountsAsync(connectionString);
        Assert.Equal(await ScalarAsync(connectionString, "select count(*) from lookout_reports"),
            live.Where(c => c.Key.StartsWith("total|", StringComparison.Ordinal)).Sum(c => c.Value));
        Assert.Equal(await ScalarAsync(connectionString, "select count(*) from lookout_reports"),
            await ScalarAsync(connectionString, "select coalesce(sum(total), 0)::bigint from lookout_apps"));

        var (exitCode, output, errors) = await LookoutProcesses.RebuildAsync("postgres", connectionString);
        Assert.True(exitCode == 0, output + errors);

        var rebuilt = await CountsAsync(connectionString);
        var differences = live.Keys.Union(rebuilt.Keys)
            .Where(k => live.GetValueOrDefault(k) != rebuilt.GetValueOrDefault(k))
            .Select(k => $"{k}: live {live.GetValueOrDefault(k)}, rebuilt {rebuilt.GetValueOrDefault(k)}").Take(10).ToList();
        Assert.True(differences.Count == 0, "live counts differ from a rebuild: " + string.Join("; ", differences));
    }

    private static async Task<Dictionary<string, long>> CountsAsync(string connectionString)
    {
        var counts = new Dictionary<string, long>(StringComparer.Ordinal);
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        // Counters plus the deltas no silo has folded yet (a killed silo leaves its last ones pending).
        await using var command = new NpgsqlCommand("""
            select dimension || '|' || app || '|' || bucket::text || '|' || value, sum(count)::bigint from (
                select app, bucket, dimension, value, count from lookout_counts
                union all
                select p.app, d.bucket, d.dimension, d.value, d.count
                from lookout_count_deltas p, unnest(p.buckets, p.dimensions, p."values", p.counts) as d(bucket, dimension, value, count)
            ) c
            where dimension <> 'dropped'
            group by app, bucket, dimension, value
            """, connection);
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync()) counts[reader.GetString(0)] = reader.GetInt64(1);
        return counts;
    }

    private static async Task<long> ScalarAsync(string connectionString, string sql)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        return Convert.ToInt64(await command.ExecuteScalarAsync(), System.Globalization.CultureInfo.InvariantCulture);
    }

    private static async Task<bool> Eventually(Func<Task<bool>> condition, TimeSpan? within = null)
    {
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < (within ?? TimeSpan.FromSeconds(20)))
        {
            if (await condition()) return true;
            await Task.Delay(200);
        }
        return await condition();
    }

    /// <summary>Workers posting legacy CSP reports and Reporting API batches of 1-10 to every silo in
    /// turn. Every report has a unique path, so what was acknowledged can be found in the database.</summary>
    private sealed class Load(IReadOnlyList<Uri> silos)
    {
        private readonly ConcurrentQueue<string> _acknowledged = new();
        private readonly ConcurrentDictionary<HttpStatusCode, int> _statuses = new();
        private int _acknowledgedCount;
        private int _sent;
        private int _failures;
        private int _missingRetryAfter;

        public int Acknowledged => Volatile.Read(ref _acknowledgedCount);
        public int SentReports => Volatile.Read(ref _sent);
        public int Failures => Volatile.Read(ref _failures);
        public IEnumerable<string> AcknowledgedKeys => _acknowledged;
        public bool Every503HadRetryAfter => Volatile.Read(ref _missingRetryAfter) == 0;
        public int ServerErrorsOtherThan503 => _statuses.Where(s => (int)s.Key >= 500 && s.Key != HttpStatusCode.ServiceUnavailable).Sum(s => s.Value);
        public int Status(HttpStatusCode status) => _statuses.GetValueOrDefault(status);
        public string Summary => $"sent {SentReports} reports, acknowledged {Acknowledged}, no answer {Failures} requests, statuses "
            + string.Join(", ", _statuses.OrderBy(s => s.Key).Select(s => $"{(int)s.Key}: {s.Value}"));

        public Task RunAsync(int workers, CancellationToken cancellationToken) => Task.WhenAll(Enumerable.Range(0, workers).Select(w => Task.Run(async () =>
        {
            var random = new Random(w);
            using var client = new HttpClient { Timeout = TimeSpan.FromSeconds(30) };
            for (var seq = 0; !cancellationToken.IsCancellationRequested; seq++)
            {
                var app = Apps[random.Next(Apps.Length)];
                var silo = silos[(w + seq) % silos.Count];
                var count = random.Next(2) == 0 ? 1 : random.Next(1, 11);
                var paths = Enumerable.Range(0, count).Select(i => $"/k/{w}/{seq}/{i}").ToList();
                using var content = new ByteArrayContent(Encoding.UTF8.GetBytes(count == 1 && seq % 2 == 0 ? Legacy(paths[0]) : Batch(paths)));
                content.Headers.ContentType = new(count == 1 && seq % 2 == 0 ? "application/csp-report" : "application/reports+json");
                Interlocked.Add(ref _sent, count);
                try
                {
                    using var response = await client.PostAsync(new Uri(silo, "/r/" + app), content, CancellationToken.None);
                    _statuses.AddOrUpdate(response.StatusCode, 1, (_, n) => n + 1);
                    if (response.StatusCode == HttpStatusCode.NoContent)
                    {
                        foreach (var path in paths) _acknowledged.Enqueue(app + path);
                        Interlocked.Add(ref _acknowledgedCount, count);
                    }
                    else if (response.StatusCode == HttpStatusCode.ServiceUnavailable && response.Headers.RetryAfter is null)
                    {
                        Interlocked.Increment(ref _missingRetryAfter);
                    }
                    if (response.StatusCode == HttpStatusCode.ServiceUnavailable) await Task.Delay(50, CancellationToken.None);
                }
                catch (HttpRequestException)
                {
                    // No answer (the silo died or is down): maybe stored, never acknowledged.
                    Interlocked.Increment(ref _failures);
                    await Task.Delay(20, CancellationToken.None);
                }
            }
        })));

        public Task WaitForAcknowledgedAsync(int target) => WaitAsync(() => Acknowledged >= target, $"{target} acknowledged reports");
        public Task WaitForSentAsync(int target) => WaitAsync(() => SentReports >= target, $"{target} sent reports");
        public Task WaitForStatusAsync(HttpStatusCode status, int target) => WaitAsync(() => Status(status) >= target, $"{target} answers {(int)status}");

        private static async Task WaitAsync(Func<bool> done, string what)
        {
            var clock = Stopwatch.StartNew();
            while (!done())
            {
                if (clock.Elapsed > TimeSpan.FromSeconds(180)) throw new TimeoutException("Load did not reach " + what);
                await Task.Delay(20);
            }
        }

        private static string Legacy(string path)
            => $$$"""{"csp-report":{"document-uri":"https://site.test{{{path}}}","blocked-uri":"https://cdn{{{path.Length % 7}}}.test/x.js","violated-directive":"script-src-elem","effective-directive":"script-src-elem","original-policy":"script-src 'self'","disposition":"enforce"}}""";

        private static string Batch(IEnumerable<string> paths) => "[" + string.Join(",", paths.Select(path =>
            $$$"""{"type":"csp-violation","age":10,"url":"https://site.test{{{path}}}","user_agent":"Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36","body":{"documentURL":"https://site.test{{{path}}}","blockedURL":"https://img{{{path.Length % 5}}}.test/a.png","effectiveDirective":"img-src","disposition":"report","statusCode":200}}""")) + "]";
    }
}
