// Lookout as a real process: listens where told, and SIGTERM under load loses nothing acknowledged.
using System.Net;
using Lookout.Tests.Shared;

namespace Lookout.Api.Tests;

public sealed class ProcessTests
{
    [Fact]
    public async Task Sigterm_under_load_stores_every_acknowledged_report_exactly_once()
    {
        using var folder = new TempFolder();
        var db = folder.File("sigterm.db");
        var port = LookoutProcesses.FreePort();
        using var process = LookoutProcesses.Start($"http://127.0.0.1:{port}", new Dictionary<string, string>
        {
            ["Lookout__Storage__ConnectionString"] = $"Data Source={db}",
            ["Lookout__RateLimits__PerClient__Enabled"] = "false",
        });
        using var client = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}") };
        await LookoutProcesses.WaitUntilReadyAsync(client, process);

        var acknowledged = 0;
        var sent = 0;
        using var stop = new CancellationTokenSource();
        var senders = Enumerable.Range(0, 8).Select(worker => Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                Interlocked.Increment(ref sent);
                try
                {
                    using var response = await client.PostReportAsync($"/r/term{worker % 3}", HttpHelpers.Csp("https://t.example/", "https://x.example/s.js", "script-src"));
                    if (response.StatusCode == HttpStatusCode.NoContent) Interlocked.Increment(ref acknowledged);
                }
                catch (HttpRequestException)
                {
                    return; // the server went away: nothing more is acknowledged by it
                }
            }
        })).ToArray();

        while (Volatile.Read(ref acknowledged) < 300) await Task.Delay(10);
        LookoutProcesses.Signal(process.Id, "TERM");
        await process.WaitForExitAsync();
        await stop.CancelAsync();
        await Task.WhenAll(senders);
        Assert.Equal(0, process.ExitCode);

        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        await using var connection = new Microsoft.Data.Sqlite.SqliteConnection($"Data Source={db}");
        await connection.OpenAsync();
        async Task<long> Scalar(string sql)
        {
            await using var command = connection.CreateCommand();
            command.CommandText = sql;
            return (long)(await command.ExecuteScalarAsync())!;
        }
        var rows = await Scalar("select count(*) from lookout_reports");
        var distinct = await Scalar("select count(distinct id) from lookout_reports");
        var counted = await Scalar("select coalesce(sum(count), 0) from lookout_counts where dimension = 'total'");
        // The silo folded the count deltas of its last commits before it exited.
        Assert.Equal(0, await Scalar("select count(*) from lookout_count_deltas"));
        var summarized = await Scalar("select coalesce(sum(total), 0) from lookout_apps");
        Assert.InRange(rows, acknowledged, sent);
        Assert.Equal(rows, distinct);
        Assert.Equal(rows, counted);
        Assert.Equal(rows, summarized);
    }
}
