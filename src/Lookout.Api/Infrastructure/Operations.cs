// What operators expect around a service: Prometheus metrics, an OpenAPI document, Orleans' dashboard and,
// when asked for, OTLP traces.
using Lookout.Grains.Telemetry;
using Lookout.Silo.Hosting;
using Microsoft.AspNetCore.OpenApi;
using Microsoft.OpenApi;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;
using Orleans.Dashboard;

namespace Lookout.Api;

/// <summary>Registration and endpoints of the operator surface: <c>/metrics</c>, <c>/openapi/v1.json</c>
/// and <c>/orleans</c>, all behind the read API's access rule (<c>/metrics</c> may also be opened to scraper
/// addresses, <see cref="MetricsOptions.ScraperAddresses"/>).</summary>
internal static class Operations
{
    /// <summary>Where Prometheus scrapes.</summary>
    public const string MetricsPath = "/metrics";
    /// <summary>Where Orleans' dashboard is served.</summary>
    public const string OrleansDashboardPath = "/orleans";
    /// <summary>The OpenAPI document's name: it is served at <c>/openapi/v1.json</c>.</summary>
    public const string OpenApiDocument = "v1";

    /// <summary>The meters exported besides Lookout's own: ASP.NET Core's requests (by route and status) and
    /// Kestrel's connections, Orleans' runtime, Npgsql's connection pool and the .NET runtime (GC, CPU, thread pool).</summary>
    public static readonly string[] ExportedMeters =
    [
        LookoutMetrics.MeterName, "Microsoft.AspNetCore.Hosting", "Microsoft.AspNetCore.Server.Kestrel", "Microsoft.AspNetCore.Diagnostics",
        "Microsoft.Orleans", "Npgsql", "System.Runtime",
    ];

    /// <summary>The activity sources traced when <c>OTEL_EXPORTER_OTLP_ENDPOINT</c> is set (ASP.NET Core's comes
    /// through its instrumentation): Orleans' grain calls and Npgsql's commands.</summary>
    public static readonly string[] TracedSources = ["Microsoft.Orleans.Runtime", "Microsoft.Orleans.Application", "Npgsql"];

    /// <summary>Adds OpenTelemetry (metrics always, exported at <see cref="MetricsPath"/>; traces and an OTLP
    /// copy of the metrics only when an OTLP endpoint is configured) and the OpenAPI document.</summary>
    public static void AddOperations(this WebApplicationBuilder builder, ClusterSettings cluster)
    {
        var telemetry = builder.Services.AddOpenTelemetry()
            .ConfigureResource(r => r.AddService("lookout", serviceInstanceId: $"{cluster.Advertised}:{cluster.SiloPort}"));
        telemetry.WithMetrics(metrics =>
        {
            metrics.AddMeter(ExportedMeters).AddPrometheusExporter();
            if (cluster.Tracing) metrics.AddOtlpExporter();
        });
        // Without an endpoint no tracer provider exists, so nothing listens to the activity sources and
        // ASP.NET Core, Orleans and Npgsql create no activities at all (docs/PERFORMANCE.md measures it).
        if (cluster.Tracing)
        {
            telemetry.WithTracing(tracing => tracing.AddAspNetCoreInstrumentation().AddSource(TracedSources).AddOtlpExporter());
        }
        builder.Services.AddOpenApi(OpenApiDocument, o => o.AddDocumentTransformer((document, _, _) =>
        {
            document.Info.Title = "Lookout";
            document.Info.Description = "Collects the reports browsers send (CSP, Reporting API, NEL, HPKP, Expect-CT) and serves them back. " +
                "Ingest (/r) is public; everything else follows the read side's access rule: the admin token as a bearer token, " +
                "a session from /login, or a local request when no token is set. Errors are RFC 9457 problem+json with a 'reason'.";
            AddMetricsPath(document);
            return Task.CompletedTask;
        }));
    }

    /// <summary>Adds Orleans' dashboard to the silo when <see cref="ClusterSettings.Dashboard"/> is on.</summary>
    public static void ConfigureSilo(ISiloBuilder silo, ClusterSettings cluster)
    {
        // The live log stream would show every log line (client addresses among them) to the page: off.
        if (cluster.Dashboard) silo.AddDashboard(o => o.HideTrace = true);
    }

    /// <summary>Maps <see cref="MetricsPath"/>, the OpenAPI document and, with a silo that runs it, Orleans' dashboard.</summary>
    public static void MapOperations(this WebApplication app)
    {
        app.MapPrometheusScrapingEndpoint(MetricsPath);
        app.MapOpenApi().ExcludeFromDescription();
        if (app.Services.GetRequiredService<ClusterSettings>().Dashboard)
        {
            // The dashboard's own UI and its JSON calls: not Lookout's API, so not in Lookout's document.
            app.MapOrleansDashboard(OrleansDashboardPath).ExcludeFromDescription();
        }
    }

    /// <summary>Documents the request body types <paramref name="contentTypes"/> without <c>Accepts</c>
    /// metadata: that metadata makes routing answer other types with a bare 415 before the handler runs,
    /// while these handlers read the body themselves and answer every type with their own problem+json.</summary>
    public static RouteHandlerBuilder DocumentsBody(this RouteHandlerBuilder endpoint, string description, params string[] contentTypes)
        => endpoint.AddOpenApiOperationTransformer((operation, _, _) =>
        {
            var content = new Dictionary<string, OpenApiMediaType>();
            foreach (var type in contentTypes) content[type] = new OpenApiMediaType { Schema = new OpenApiSchema { Type = type.StartsWith("application/x-www-form", StringComparison.Ordinal) || type.StartsWith("text/", StringComparison.Ordinal) ? JsonSchemaType.String : JsonSchemaType.Object } };
            operation.RequestBody = new OpenApiRequestBody { Required = true, Description = description, Content = content };
            return Task.CompletedTask;
        });

    // The scrape endpoint is middleware, not a route handler, so the generator does not see it.
    private static void AddMetricsPath(OpenApiDocument document)
    {
        var operation = new OpenApiOperation
        {
            Summary = "Prometheus metrics",
            Description = "Lookout's meter with ASP.NET Core's, Kestrel's, Orleans', Npgsql's and the runtime's, in the Prometheus text format. " +
                "Follows the read side's access rule, or Lookout:Metrics:ScraperAddresses.",
            Tags = new HashSet<OpenApiTagReference> { new("Operations", document) },
            Responses = new OpenApiResponses
            {
                ["200"] = new OpenApiResponse
                {
                    Description = "The current values.",
                    Content = new Dictionary<string, OpenApiMediaType> { ["text/plain; version=0.0.4"] = new() },
                },
                ["401"] = new OpenApiResponse { Description = "A token is configured and the request carries none that matches." },
                ["403"] = new OpenApiResponse { Description = "No token is configured and the request is not local." },
            },
        };
        document.Paths ??= new OpenApiPaths();
        document.Paths[MetricsPath] = new OpenApiPathItem { Operations = new Dictionary<HttpMethod, OpenApiOperation> { [HttpMethod.Get] = operation } };
    }
}
