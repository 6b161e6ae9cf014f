// Lookout as operators run it: the real executable, HTTP and HTTPS through Kestrel's usual settings.
using System.Diagnostics;
using System.Net.Http.Json;
using System.Text.Json;
using Lookout.Tests.Shared;

namespace Lookout.EndToEnd.Tests;

public sealed class LookoutProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly string _folder;
    private readonly HttpClient _client;

    private LookoutProcess(Process process, string folder, int httpPort, int httpsPort)
    {
        _process = process;
        _folder = folder;
        HttpPort = httpPort;
        HttpsPort = httpsPort;
        _client = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{httpPort}") };
    }

    public int HttpPort { get; }
    public int HttpsPort { get; }
    public string BaseUrl => $"http://127.0.0.1:{HttpPort}";

    public static async Task<LookoutProcess> StartAsync(TestCertificates certificates, IReadOnlyDictionary<string, string>? settings = null)
    {
        var folder = Directory.CreateTempSubdirectory("lookout-e2e-").FullName;
        var http = LookoutProcesses.FreePort();
        var https = LookoutProcesses.FreePort();
        var environment = new Dictionary<string, string>
        {
            ["Kestrel__Certificates__Default__Path"] = certificates.LeafPath,
            ["Kestrel__Certificates__Default__KeyPath"] = certificates.LeafKeyPath,
            // Keep query values: the test asserts on stored URLs.
            ["Lookout__Ingest__UrlPrivacy"] = "KeepQuery",
        };
        foreach (var (key, value) in settings ?? new Dictionary<string, string>()) environment[key] = value;
        var process = LookoutProcesses.Start($"http://127.0.0.1:{http};https://127.0.0.1:{https}", environment, folder);
        var lookout = new LookoutProcess(process, folder, http, https);
        await LookoutProcesses.WaitUntilReadyAsync(lookout._client, process);
        return lookout;
    }

    /// <summary>The stored reports of <paramref name="app"/>, newest first.</summary>
    public async Task<IReadOnlyList<JsonElement>> ReportsAsync(string app)
    {
        var page = await _client.GetFromJsonAsync<JsonElement>($"/api/apps/{app}/reports?limit=500");
        return [.. page.GetProperty("reports").EnumerateArray()];
    }

    /// <summary>Polls until <paramref name="done"/> holds for the stored reports, or the time is up.</summary>
    public async Task<IReadOnlyList<JsonElement>> WaitForAsync(string app, Func<IReadOnlyList<JsonElement>, bool> done, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        IReadOnlyList<JsonElement> reports;
        do
        {
            reports = await ReportsAsync(app);
            if (done(reports)) return reports;
            await Task.Delay(250);
        }
        while (DateTime.UtcNow < deadline);
        return reports;
    }

    public async ValueTask DisposeAsync()
    {
        _client.Dispose();
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }
        _process.Dispose();
        try
        {
            Directory.Delete(_folder, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
