// What survives: a restart on SQLite, two silos on one PostgreSQL, and the rebuild command.
using System.Diagnostics;
using System.Net;
using Lookout.Tests.Shared;

namespace Lookout.Api.Tests;

public sealed class DurabilityTests
{
    [Fact]
    public async Task A_restart_keeps_everything()
    {
        using var folder = new TempFolder();
        var file = folder.File("restart.db");
        using (var first = LookoutFactory.Sqlite(file))
        {
            using var client = first.CreateClient();
            for (var i = 0; i < 25; i++)
                Assert.Equal(HttpStatusCode.NoContent, (await client.PostReportAsync("/r/keep", HttpHelpers.Csp("https://k.example/", "https://x.example/a.js", "script-src"))).StatusCode);
        }
        using var second = LookoutFactory.Sqlite(file);
        using var again = second.CreateClient();
        var counts = await again.GetJsonAsync("/api/apps/keep/counts");
        Assert.Equal(25, counts.GetProperty("total").GetInt64());
        Assert.Equal(25, counts.Count("blocked_host", "x.example"));
        Assert.Equal(25, (await again.GetJsonAsync("/api/apps/keep/reports?limit=100")).GetProperty("reports").GetArrayLength());
    }

    [SkippableFact]
    public async Task Two_silos_on_one_PostgreSQL_add_to_the_same_counts()
    {
        await using var database = await TestPostgres.CreateDatabaseAsync();
        using var silo1 = LookoutFactory.Postgres(database.ConnectionString);
        using var silo2 = LookoutFactory.Postgres(database.ConnectionString);
        using var client1 = silo1.CreateClient();
        using var client2 = silo2.CreateClient();
        var posts = new List<Task<HttpResponseMessage>>();
        for (var i = 0; i < 150; i++)
        {
            var client = i % 2 == 0 ? client1 : client2;
            var app = i % 3 == 0 ? "alpha" : "beta";
            posts.Add(client.PostReportAsync("/r/" + app, HttpHelpers.Csp("https://c.example/", "https://cdn.example/s.js", "script-src")));
        }
        var responses = await Task.WhenAll(posts);
        Assert.All(responses, r => Assert.Equal(HttpStatusCode.NoContent, r.StatusCode));

        foreach (var client in new[] { client1, client2 })
        {
            Assert.Equal(50, (await client.GetJsonAsync("/api/apps/alpha/counts")).GetProperty("total").GetInt64());
            Assert.Equal(100, (await client.GetJsonAsync("/api/apps/beta/counts")).GetProperty("total").GetInt64());
            Assert.Equal(100, (await client.GetJsonAsync("/api/apps/beta/counts")).Count("blocked_host", "cdn.example"));
        }
    }

    [SkippableFact]
    public async Task Silos_on_one_PostgreSQL_see_each_other_and_a_stopped_one_says_so()
    {
        await using var database = await TestPostgres.CreateDatabaseAsync();
        var silo1 = LookoutFactory.Postgres(database.ConnectionString);
        using var silo2 = LookoutFactory.Postgres(database.ConnectionString);
        using var client1 = silo1.CreateClient();
        using var client2 = silo2.CreateClient();
        var cluster = await client2.GetJsonAsync("/api/cluster");
        var self1 = (await client1.GetJsonAsync("/api/cluster")).GetProperty("self").GetString();
        var self2 = cluster.GetProperty("self").GetString();
        Assert.NotEqual(self1, self2);
        var silos = cluster.GetProperty("silos").EnumerateArray().ToDictionary(s => s.GetProperty("silo_id").GetString()!, s => s.GetProperty("status").GetString());
        Assert.Equal("active", silos[self1!]);
        Assert.Equal("active", silos[self2!]);

        silo1.Dispose();
        var after = (await client2.GetJsonAsync("/api/cluster")).GetProperty("silos").EnumerateArray()
            .ToDictionary(s => s.GetProperty("silo_id").GetString()!, s => s.GetProperty("status").GetString());
        // Orleans marks a silo that shut down gracefully dead at once (no waiting for missed probes).
        Assert.Equal("dead", after[self1!]);
        Assert.Equal("active", after[self2!]);
    }

    [Fact]
    public async Task The_rebuild_command_recomputes_counts_from_raw_events()
    {
        using var folder = new TempFolder();
        var file = folder.File("rebuild.db");
        using (var factory = LookoutFactory.Sqlite(file))
        {
            using var client = factory.CreateClient();
            for (var i = 0; i < 12; i++)
                (await client.PostReportAsync("/r/rb", HttpHelpers.Csp("https://r.example/", "eval", "script-src"))).EnsureSuccessStatusCode();
        }
        // Damage the projection, then let the real executable rebuild it.
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        await using (var connection = new Microsoft.Data.Sqlite.SqliteConnection($"Data Source={file}"))
        {
            await connection.OpenAsync();
            await using var damage = connection.CreateCommand();
            damage.CommandText = "update lookout_counts set count = count + 1000; update lookout_apps set total = 1;";
            await damage.ExecuteNonQueryAsync();
        }
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();

        // A live silo on this host holds the Orleans ports: rebuild starts no silo, so it does not care.
        using var siloPort = Held();
        using var gatewayPort = Held();
        var (exitCode, output, errors) = await LookoutProcesses.RebuildAsync("sqlite", $"Data Source={file}",
            new Dictionary<string, string> { ["Lookout__Cluster__SiloPort"] = PortOf(siloPort), ["Lookout__Cluster__GatewayPort"] = PortOf(gatewayPort) },
            "--app", "rb");
        Assert.True(exitCode == 0, output + errors);
        Assert.Contains("from 12 raw events", output, StringComparison.Ordinal);

        using var after = LookoutFactory.Sqlite(file);
        using var check = after.CreateClient();
        var counts = await check.GetJsonAsync("/api/apps/rb/counts");
        Assert.Equal(12, counts.GetProperty("total").GetInt64());
        Assert.Equal(12, counts.Count("classification", "eval"));
        Assert.Equal(12, (await check.GetJsonAsync("/api/apps")).GetProperty("apps")[0].GetProperty("total").GetInt64());
    }

    /// <summary>A listener on a free loopback port, standing in for a live silo's socket.</summary>
    private static System.Net.Sockets.TcpListener Held()
    {
        var listener = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        listener.Start();
        return listener;
    }

    private static string PortOf(System.Net.Sockets.TcpListener listener)
        => ((System.Net.IPEndPoint)listener.LocalEndpoint).Port.ToString(System.Globalization.CultureInfo.InvariantCulture);
}
