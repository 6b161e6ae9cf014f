// The site whose policies the browsers violate, on site.test (pages) and cdn.test (cross-origin assets).
using System.Net;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Lookout.EndToEnd.Tests;

/// <summary>Serves pages over HTTP (legacy report-uri) and HTTPS (Reporting API, which browsers only
/// use when both page and endpoint are secure). Every page trips the same six violations.</summary>
public sealed class TestSite : IAsyncDisposable
{
    private const string Pixel = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==";
    private readonly WebApplication _app;

    private TestSite(WebApplication app, int httpPort, int httpsPort)
    {
        _app = app;
        HttpPort = httpPort;
        HttpsPort = httpsPort;
    }

    public int HttpPort { get; }
    public int HttpsPort { get; }

    /// <summary>Starts the site. <paramref name="lookoutHttp"/> and <paramref name="lookoutHttps"/> are Lookout's base URLs.</summary>
    public static async Task<TestSite> StartAsync(TestCertificates certificates, string lookoutHttp, string lookoutHttps)
    {
        var httpPort = Lookout.Tests.Shared.LookoutProcesses.FreePort();
        var httpsPort = Lookout.Tests.Shared.LookoutProcesses.FreePort();
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(k =>
        {
            k.Listen(IPAddress.Loopback, httpPort);
            k.Listen(IPAddress.Loopback, httpsPort, o => o.UseHttps(certificates.Leaf));
        });
        var app = builder.Build();
        app.MapGet("/app.js", () => Results.Text("try { eval('1 + 1'); } catch (e) { }", "text/javascript"));
        app.MapGet("/cross.js", () => Results.Text("window.crossLoaded = true;", "text/javascript"));
        app.MapGet("/pixel.png", () => Results.Bytes(Convert.FromBase64String(Pixel), "image/png"));
        app.MapGet("/legacy/{mode}", (HttpContext http, string mode) =>
        {
            var policy = $"default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; report-uri {lookoutHttp}/r/{http.Request.Query["app"]}?enforced={(mode == "enforce" ? 1 : 0)}";
            http.Response.Headers[mode == "enforce" ? "Content-Security-Policy" : "Content-Security-Policy-Report-Only"] = policy;
            return Results.Content(Page($"http://cdn.test:{httpPort}"), "text/html; charset=utf-8");
        });
        app.MapGet("/reporting", (HttpContext http) =>
        {
            http.Response.Headers["Reporting-Endpoints"] = $"lookout=\"{lookoutHttps}/r/{http.Request.Query["app"]}\"";
            http.Response.Headers.ContentSecurityPolicy = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' https://cdn.test:" + httpsPort + "; report-to lookout";
            http.Response.Headers["Cross-Origin-Embedder-Policy-Report-Only"] = "require-corp; report-to=\"lookout\"";
            return Results.Content(Page($"https://cdn.test:{httpsPort}", extraImage: true), "text/html; charset=utf-8");
        });
        await app.StartAsync();
        return new TestSite(app, httpPort, httpsPort);
    }

    // Six violations: inline style, inline script, eval (in app.js), a cross-origin script and image, a data: image.
    // On the Reporting API page cdn.test images are allowed by CSP, so the one without CORP trips COEP instead.
    private static string Page(string cdn, bool extraImage = false)
    {
        var html = new StringBuilder();
        html.Append("<!doctype html><html><head><title>lookout e2e</title><style>body { color: #333; }</style></head><body>");
        html.Append("<script>document.body.dataset.inline = '1';</script>");
        html.Append("<script src=\"/app.js\"></script>");
        html.Append($"<script src=\"{cdn}/cross.js\"></script>");
        html.Append(extraImage ? $"<img src=\"{cdn}/pixel.png?coep\">" : $"<img src=\"{cdn}/pixel.png\">");
        html.Append($"<img src=\"data:image/png;base64,{Pixel}\">");
        html.Append("</body></html>");
        return html.ToString();
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
