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

    private sealed class PageResult(string path) : IResult
    {
        public Task ExecuteAsync(HttpContext http)
        {
            http.Response.Headers.ContentSecurityPolicy = ContentSecurityPolicy;
            http.Response.Headers.XContentTypeOptions = "nosniff";
            return TypedResults.PhysicalFile(path, "text/html; charset=utf-8").ExecuteAsync(http);
        }
    }

    public static void MapDashboard(this WebApplication app)
    {
        app.UseStaticFiles(new StaticFileOptions
        {
            FileProvider = new PhysicalFileProvider(Root),
            OnPrepareResponse = c => c.Context.Response.Headers.CacheControl = "no-cache",
        });
        app.MapGet("/", () => Page("index.html"));
        app.MapGet("/apps/{app}", (string app) => Page("app.html"));
        app.MapGet("/search", () => Page("search.html"));
        app.MapGet("/reports/{id}", (string id) => Page("report.html"));
    }
}
