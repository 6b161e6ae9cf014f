// Lookout as a real process: listens where told, and SIGTERM under load loses nothing acknowledged.
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace Lookout.Api.Tests;

public sealed class ProcessTests
{
    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private static Process Start(string dbFile, int port) => Process.Start(new ProcessStartInfo("dotnet",
        [Path.Combine(AppContext.BaseDirectory, "Lookout.Api.dll"), "--urls", $"http://127.0.0.1:{port}"])
    {
        RedirectStandardOutput = true,
        RedirectStandardError = true,
        Environment = { ["Lookout__Storage__ConnectionString"] = $"Data Source={dbFile}" },
    })!;

    private static async Task WaitUntilReadyAsync(HttpClient client, Process process)
    {
        for (var i = 0; i < 300 && !process.HasExited; i++)
        {
            try
            {
                if ((await client.GetAsync("/readyz")).IsSuccessStatusCode) return;
            }
            catch (HttpRequestException)
            {
            }
            await Task.Delay(100);
        }
        throw new InvalidOperationException("Lookout did not become ready: " + await process.StandardError.ReadToEndAsync());
    }

    [Fact]
    public async Task Sigterm_under_load_stores_every_acknowledged_report_exactly_once()
    {
        using var folder = new TempFolder();
        var db = folder.File("sigterm.db");
        var port = FreePort();
        using var process = Start(db, port);
        using var client = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}") };
        await WaitUntilReadyAsync(client, process);

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
        using (var term = Process.Start("kill", ["-TERM", process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)])) await term!.WaitForExitAsync();
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
        var summarized = await Scalar("select coalesce(sum(total), 0) from lookout_apps");
        Assert.InRange(rows, acknowledged, sent);
        Assert.Equal(rows, distinct);
        Assert.Equal(rows, counted);
        Assert.Equal(rows, summarized);
    }
}
