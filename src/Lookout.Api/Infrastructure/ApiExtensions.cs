// The Api project's one Add… and one Map… extension.
using System.Text.Json;
using Lookout.Api.Access;
using Lookout.Api.Groups;
using Lookout.Api.Ingest;
using Lookout.Api.Policy;
using Lookout.Api.Read;
using Lookout.Silo;

namespace Lookout.Api;

/// <summary>Registration and endpoint mapping of the Lookout process.</summary>
public static class ApiExtensions
{
    /// <summary>Default listen address when none is configured (<c>--urls</c>, <c>ASPNETCORE_URLS</c>, <c>Kestrel:Endpoints</c>).</summary>
    public const string DefaultUrl = "http://127.0.0.1:5080";

    /// <summary>Adds the silo, ingest and read services, JSON and problem details. <paramref name="hostSilo"/>
    /// false builds the process for a one-off command (<c>rebuild</c>): storage without an Orleans silo.</summary>
    public static WebApplicationBuilder AddLookoutApi(this WebApplicationBuilder builder, bool hostSilo = true)
    {
        var configuration = builder.Configuration;
        // The shipped appsettings.json sits next to the executable; the content root is the working
        // directory, which may be anywhere. Read it first so every other source still overrides it.
        if (!string.Equals(Path.GetFullPath(builder.Environment.ContentRootPath).TrimEnd('/'), AppContext.BaseDirectory.TrimEnd('/'), StringComparison.Ordinal))
        {
            configuration.Sources.Insert(0, new Microsoft.Extensions.Configuration.Json.JsonConfigurationSource
            {
                FileProvider = new Microsoft.Extensions.FileProviders.PhysicalFileProvider(AppContext.BaseDirectory),
                Path = "appsettings.json",
                Optional = true,
                ReloadOnChange = false,
            });
        }
        var hasUrls = !string.IsNullOrEmpty(configuration["urls"]) || !string.IsNullOrEmpty(configuration["http_ports"])
            || !string.IsNullOrEmpty(configuration["https_ports"]) || configuration.GetSection("Kestrel:Endpoints").Exists();
        if (!hasUrls) builder.WebHost.UseUrls(DefaultUrl);

        builder.AddLookoutSilo(hostSilo, Operations.ConfigureSilo);
        builder.AddOperations(Lookout.Silo.Hosting.ClusterSettings.Read(configuration, checkPorts: false));
        builder.Services.AddLookoutAccess(configuration);
        builder.Services.AddIngest();
        builder.Services.AddRead();
        builder.Services.AddPolicyTools();
        builder.Services.AddProblemDetails();
        builder.Services.ConfigureHttpJsonOptions(o =>
        {
            o.SerializerOptions.PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower;
            o.SerializerOptions.DefaultIgnoreCondition = System.Text.Json.Serialization.JsonIgnoreCondition.Never;
        });
        return builder;
    }

    /// <summary>Adds the middleware: problem+json for errors, the connection's own address, forwarded
    /// headers from trusted proxies only, the dashboard's security headers, and read-side access.</summary>
    public static WebApplication UseLookoutApi(this WebApplication app)
    {
        app.UseExceptionHandler();
        app.UseStatusCodePages();
        app.UseLookoutAccess();
        return app;
    }

    /// <summary>Maps ingest, read, health, login and dashboard endpoints, and the operator surface
    /// (<c>/metrics</c>, <c>/openapi/v1.json</c>, <c>/orleans</c>).</summary>
    public static WebApplication MapLookoutEndpoints(this WebApplication app)
    {
        app.MapIngestEndpoints();
        app.MapReadEndpoints();
        app.MapPolicyEndpoints();
        app.MapGroupEndpoints();
        app.MapHealthEndpoints();
        app.MapLoginEndpoints();
        app.MapDashboard();
        app.MapOperations();
        return app;
    }
}
