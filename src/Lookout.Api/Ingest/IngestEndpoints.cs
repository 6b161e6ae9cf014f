// POST /r/{app} and POST /r?app=: read, normalize, hand to the application grain, answer when durable.
using System.Buffers;
using System.Globalization;
using Lookout.Grains.Applications;
using Lookout.Grains.Reports;
using Lookout.Grains.Reports.Normalization;
using Lookout.Grains.Reports.Parsing;
using Lookout.Grains.Runtime;
using Lookout.Grains.Storage;
using Lookout.Silo.Hosting;
using Microsoft.Extensions.Options;

namespace Lookout.Api.Ingest;

/// <summary>The public ingest endpoints. Browsers cannot authenticate, so these take anything and
/// answer with a precise status: 204 once stored, 4xx for what a client got wrong, 503 while storage is away.</summary>
public static class IngestEndpoints
{
    internal static IServiceCollection AddIngest(this IServiceCollection services)
    {
        services.AddOptions<IngestOptions>().BindConfiguration("Lookout:Ingest")
            .Validate(o => o.MaxBodyBytes is > 0 and <= 16 * 1024 * 1024, "Lookout:Ingest:MaxBodyBytes must be between 1 and 16 MiB.")
            .ValidateOnStart();
        services.AddOptions<NoiseSettings>().BindConfiguration("Lookout:Noise").ValidateOnStart();
        services.AddSingleton<IValidateOptions<NoiseSettings>, NoiseSettingsValidator>();
        // Built once: the pipeline takes plain data, and rule patterns compile only here.
        services.AddSingleton(sp => new NormalizationOptions(sp.GetRequiredService<IOptions<IngestOptions>>().Value.UrlPrivacy)
        {
            Noise = sp.GetRequiredService<IOptions<NoiseSettings>>().Value.ToOptions(),
        });
        return services;
    }

    internal static void MapIngestEndpoints(this IEndpointRouteBuilder app)
    {
        app.MapPost("/r/{app}", (HttpContext http, string app) => IngestAsync(http, app));
        app.MapPost("/r", (HttpContext http, [Microsoft.AspNetCore.Mvc.FromQuery(Name = "app")] string? app) => IngestAsync(http, app ?? ""));
        app.MapMethods("/r/{app}", ["OPTIONS"], Preflight);
        app.MapMethods("/r", ["OPTIONS"], Preflight);
    }

    /// <summary>Answers CORS preflight: any origin may POST reports with a Content-Type header
    /// (Chromium sends one before a cross-origin Reporting API upload).</summary>
    public static IResult Preflight(HttpContext http)
    {
        var headers = http.Response.Headers;
        headers.AccessControlAllowOrigin = "*";
        headers.AccessControlAllowMethods = "POST, OPTIONS";
        headers.AccessControlAllowHeaders = "Content-Type";
        headers.AccessControlMaxAge = "86400";
        return TypedResults.NoContent();
    }

    /// <summary>Ingests one request body holding one or more reports for <paramref name="app"/>.</summary>
    public static async Task<IResult> IngestAsync(HttpContext http, string app)
    {
        http.Response.Headers.AccessControlAllowOrigin = "*";
        if (!AppIds.IsValid(app))
            return Problems.Of(400, "Invalid application id", "Application ids are 1-64 characters of A-Z, a-z, 0-9, '.', '_' and '-'.", "invalid_app");
        var services = http.RequestServices;
        var options = services.GetRequiredService<IOptions<IngestOptions>>().Value;
        var now = services.GetRequiredService<TimeProvider>().GetUtcNow();
        var grain = services.GetRequiredService<IGrainFactory>().GetGrain<IApplicationGrain>(app);
        if (!TryReadExtras(http.Request.Query, now, http.Request.Headers.UserAgent.ToString(), out var context, out var extrasError))
            return await RefuseAsync(grain, now, 400, "Invalid query parameter", extrasError, "invalid_extra");

        var (buffer, length) = await ReadBodyAsync(http.Request, options.MaxBodyBytes, http.RequestAborted);
        if (buffer is null)
            return await RefuseAsync(grain, now, 413, "Payload too large", $"Report bodies are limited to {options.MaxBodyBytes} bytes.", "too_large");
        IngestResult result;
        try
        {
            result = ReportPipeline.Process(buffer.AsMemory(0, length), context with { App = app },
                services.GetRequiredService<NormalizationOptions>(), services.GetService<IUserAgentParser>());
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
        switch (result.Error)
        {
            case PayloadError.Empty:
                return await RefuseAsync(grain, now, 400, "Empty body", "The request carried no report.", "empty");
            case PayloadError.MalformedJson:
                return await RefuseAsync(grain, now, 400, "Malformed JSON", "The body starts like JSON but does not parse (or nests deeper than 32 levels).", "malformed");
            case PayloadError.NoReports:
                return await RefuseAsync(grain, now, 400, "No reports", "The JSON holds no report object.", "no_reports", result.RejectedEntries);
            case PayloadError.NotJson:
                return await RefuseAsync(grain, now, 415, "Unsupported body", "Send JSON (application/csp-report, application/reports+json, application/json) or a form-encoded CSP report.", "not_json");
        }

        try
        {
            // Items of a batch that were not reports are counted; their siblings are stored.
            if (result.RejectedEntries > 0) await grain.RecordDroppedAsync(DroppedReason("not_a_report"), result.RejectedEntries, now);
            await grain.AcceptAsync(result.Reports);
        }
        catch (Exception ex) when (ex is StorageUnavailableException or GrainOverloadedException or SiloUnavailableException)
        {
            http.Response.Headers.RetryAfter = options.RetryAfterSeconds.ToString(CultureInfo.InvariantCulture);
            return Problems.Of(503, "Try again later", "The reports were not acknowledged (they are stored at most once): " + ex.Message, "unavailable");
        }
        return TypedResults.NoContent();
    }

    /// <summary>The <c>dropped</c> counter value for a refusal reason.</summary>
    public static string DroppedReason(string reason) => "rejected:" + reason;

    // Answers a refusal and counts it for the application, so "I sent reports and see nothing" has an answer.
    private static async Task<IResult> RefuseAsync(IApplicationGrain grain, DateTimeOffset now, int status, string title, string? detail, string reason, int count = 1)
    {
        try
        {
            await grain.RecordDroppedAsync(DroppedReason(reason), Math.Max(count, 1), now);
        }
        catch (SiloUnavailableException)
        {
            // Stopping: the refusal is still answered, just not counted.
        }
        return Problems.Of(status, title, detail, reason);
    }

    /// <summary>Reads at most <paramref name="limit"/> bytes into a pooled buffer; null when the body is larger.</summary>
    private static async Task<(byte[]? Buffer, int Length)> ReadBodyAsync(HttpRequest request, int limit, CancellationToken cancellationToken)
    {
        if (request.ContentLength > limit) return (null, 0);
        var buffer = ArrayPool<byte>.Shared.Rent(limit + 1);
        var length = 0;
        while (true)
        {
            var read = await request.Body.ReadAsync(buffer.AsMemory(length, buffer.Length - length), cancellationToken);
            if (read == 0) return (buffer, length);
            length += read;
            if (length > limit)
            {
                ArrayPool<byte>.Shared.Return(buffer);
                return (null, 0);
            }
        }
    }

    /// <summary>Reads the extras a site can put in its report endpoint URL.</summary>
    internal static bool TryReadExtras(IQueryCollection query, DateTimeOffset now, string userAgent, out IngestContext context, out string? error)
    {
        context = new IngestContext(now, string.IsNullOrWhiteSpace(userAgent) ? null : userAgent);
        error = null;
        bool? enforced = null;
        var enforcedText = query["enforced"].ToString();
        if (enforcedText.Length > 0)
        {
            enforced = enforcedText.ToLowerInvariant() switch
            {
                "1" or "true" => true,
                "0" or "false" => false,
                _ => null,
            };
            if (enforced is null)
            {
                error = "'enforced' must be 1, 0, true or false.";
                return false;
            }
        }
        int? status = null;
        var statusText = query["status"].ToString();
        if (statusText.Length > 0)
        {
            if (!int.TryParse(statusText, NumberStyles.None, CultureInfo.InvariantCulture, out var s) || s is < 100 or > 599)
            {
                error = "'status' must be an HTTP status code (100-599).";
                return false;
            }
            status = s;
        }
        var env = Label(query["env"].ToString());
        var release = Label(query["release"].ToString());
        if (env is { Length: > 64 } || release is { Length: > 128 })
        {
            error = "'env' is limited to 64 characters and 'release' to 128.";
            return false;
        }
        context = context with { Enforced = enforced, PageStatus = status, Env = env, Release = release };
        return true;
    }

    private static string? Label(string value) => string.IsNullOrWhiteSpace(value) ? null : value.Trim();
}
