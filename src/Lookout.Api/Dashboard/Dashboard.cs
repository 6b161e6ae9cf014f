// The dashboard's pages and static assets, served from the build output's wwwroot.
using Microsoft.Extensions.FileProviders;

namespace Lookout.Api;

/// <summary>Pages are static HTML driving the read API from the browser; Chart.js comes from npm at
/// build time into <c>wwwroot/assets/lib</c> (never committed).</summary>
internal static class Dashboard
{
    /// <summary>The wwwroot the build copies next to the executable, whatever the working directory.</summary>
    public static string Root { get; } = Path.Combine(AppContext.BaseDirectory, "wwwroot");

    /// <summary>The dashboard's own policy: its code is all same-origin files, so it can be strict.</summary>
    public const string ContentSecurityPolicy =
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; " +
        "frame-ancestors 'none'; base-uri 'none'; form-action 'self'";

    public static IResult Page(string name) => new PageResult(Path.Combine(Root, name));

    /// <summary>The headers every dashboard response carries: its policy, no sniffing, no framing, no referrer.</summary>
    public static void AddSecurityHeaders(HttpResponse response)
    {
        response.Headers.ContentSecurityPolicy = ContentSecurityPolicy;
        response.Headers.XContentTypeOptions = "nosniff";
        response.Headers.XFrameOptions = "DENY";
        response.Headers["Referrer-Policy"] = "no-referrer";
    }

    private sealed class PageResult(string path) : IResult
    {
        public Task ExecuteAsync(HttpContext http)
        {
            AddSecurityHeaders(http.Response);
            return TypedResults.PhysicalFile(path, "text/html; charset=utf-8").ExecuteAsync(http);
        }
    }

    public static void MapDashboard(this WebApplication app)
    {
        // Only the assets folder is served as files: the pages are served by their routes below, with
        // their headers, and are not reachable as /index.html and the like.
        app.UseStaticFiles(new StaticFileOptions
        {
            FileProvider = new PhysicalFileProvider(Path.Combine(Root, "assets")),
            RequestPath = "/assets",
            OnPrepareResponse = c =>
            {
                c.Context.Response.Headers.CacheControl = "no-cache";
                AddSecurityHeaders(c.Context.Response);
            },
        });
        var pages = app.MapGroup("").WithTags("Dashboard");
        pages.MapGet("/", () => Page("index.html")).Produces(200, contentType: "text/html").WithSummary("Dashboard: applications");
        pages.MapGet("/apps/{app}", (string app) => Page("app.html")).Produces(200, contentType: "text/html").WithSummary("Dashboard: one application's graphs and reports");
        pages.MapGet("/apps/{app}/policy", (string app) => Page("policy.html")).Produces(200, contentType: "text/html").WithSummary("Dashboard: one application's suggested policy and draft simulation");
        pages.MapGet("/apps/{app}/groups/{id}", (string app, string id) => Page("group.html")).Produces(200, contentType: "text/html").WithSummary("Dashboard: one problem group with its reports");
        pages.MapGet("/apps/{app}/alerts", (string app) => Page("alerts.html")).Produces(200, contentType: "text/html").WithSummary("Dashboard: one application's webhooks and their delivery logs");
        pages.MapGet("/search", () => Page("search.html")).Produces(200, contentType: "text/html").WithSummary("Dashboard: search");
        pages.MapGet("/reports/{id}", (string id) => Page("report.html")).Produces(200, contentType: "text/html").WithSummary("Dashboard: one report");
    }
}
