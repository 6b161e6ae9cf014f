// Noise rules configured through Lookout:Noise reach stored reports and counts.
using System.Net;

namespace Lookout.Api.Tests;

public sealed class NoiseConfigurationTests
{
    private const string OldSafari = "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_7_3) AppleWebKit/534.55.3 (KHTML, like Gecko) Version/5.1.5 Safari/534.55.3";
    private const string Chrome = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/125.0.0.0 Safari/537.36";

    private static async Task PostAsync(HttpClient client, string app, string blocked, string userAgent)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/r/" + app)
        {
            Content = new StringContent(HttpHelpers.Csp("https://shop.example/", blocked, "script-src"), System.Text.Encoding.UTF8, "application/csp-report"),
        };
        request.Headers.TryAddWithoutValidation("User-Agent", userAgent);
        using var response = await client.SendAsync(request);
        Assert.Equal(HttpStatusCode.NoContent, response.StatusCode);
    }

    [Fact]
    public async Task Configured_rules_flag_count_and_dry_run()
    {
        using var folder = new TempFolder();
        using var factory = LookoutFactory.Sqlite(folder.File("noise.db"), new Dictionary<string, string>
        {
            ["Lookout:Noise:DryRun:0"] = "legacy_browser",
            ["Lookout:Noise:Rules:0:Name"] = "ad_network",
            ["Lookout:Noise:Rules:0:Apps:0"] = "shop",
            ["Lookout:Noise:Rules:0:BlockedHost"] = "*.ads.example",
        });
        using var client = factory.CreateClient();
        await PostAsync(client, "shop", "https://x.ads.example/a.js", Chrome);
        await PostAsync(client, "shop", "https://cdn.example/a.js", OldSafari);
        await PostAsync(client, "shop", "https://cdn.example/a.js", Chrome);
        await PostAsync(client, "blog", "https://x.ads.example/a.js", Chrome);

        var shop = await client.GetJsonAsync("/api/apps/shop/counts");
        Assert.Equal(3, shop.GetProperty("total").GetInt64());
        Assert.Equal(1, shop.GetProperty("noise").GetInt64());
        Assert.Equal(1, shop.Count("noise_reason", "ad_network"));
        Assert.Equal(1, shop.Count("noise_dry_run", "legacy_browser"));
        Assert.Equal(1, shop.Count("browser", "Safari 5"));
        Assert.Equal(1, shop.Count("browser", "Chrome 125"));
        Assert.Equal(0, (await client.GetJsonAsync("/api/apps/blog/counts")).GetProperty("noise").GetInt64());

        var reports = (await client.GetJsonAsync("/api/apps/shop/reports")).GetProperty("reports").EnumerateArray().ToList();
        var safari = reports.Single(r => r.GetProperty("browser").GetString() == "Safari");
        Assert.Equal("legacy_browser", safari.GetProperty("noise_dry_run").GetString());
        Assert.False(safari.GetProperty("noise").GetBoolean());
        Assert.Equal("Mac OS X", safari.GetProperty("os").GetString());
    }

    [Fact]
    public void Invalid_noise_configuration_stops_start_up_with_the_reason()
    {
        using var folder = new TempFolder();
        using var factory = LookoutFactory.Sqlite(folder.File("bad.db"), new Dictionary<string, string>
        {
            ["Lookout:Noise:DryRun:0"] = "no_such_rule",
            ["Lookout:Noise:Rules:0:Name"] = "Bad Name",
        });
        var error = Assert.ThrowsAny<Exception>(() => factory.CreateClient());
        var message = error.ToString();
        Assert.Contains("no_such_rule", message, StringComparison.Ordinal);
        Assert.Contains("Bad Name", message, StringComparison.Ordinal);
    }
}
